//! "Did you mean …?" for misspelt names.

/// The candidate closest to `name`, if it is close enough to be a typo: the
/// same letters in another case, or an edit distance of at most a third of
/// the length (at least 1).
pub fn closest<'a>(name: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let lower = name.to_ascii_lowercase();
    if let Some(same) = candidates.iter().find(|c| c.to_ascii_lowercase() == lower) {
        return Some(same);
    }
    let limit = (name.chars().count() / 3).max(1);
    candidates
        .iter()
        .map(|c| (distance(&lower, &c.to_ascii_lowercase()), *c))
        .filter(|&(d, _)| d <= limit)
        .min_by_key(|&(d, _)| d)
        .map(|(_, c)| c)
}

/// Levenshtein distance between two strings, by characters.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let substitution = diagonal + usize::from(ca != cb);
            diagonal = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(row[j + 1] + 1);
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    const LAYERS: &[&str] =
        &["Dense", "ReLU", "LeakyReLU", "Sigmoid", "Tanh", "Softplus", "Softmax", "Dropout"];

    #[test]
    fn typos_find_their_layer() {
        assert_eq!(closest("Dens", LAYERS), Some("Dense"));
        assert_eq!(closest("Relu", LAYERS), Some("ReLU"));
        assert_eq!(closest("relu", LAYERS), Some("ReLU"));
        assert_eq!(closest("Sigmod", LAYERS), Some("Sigmoid"));
        assert_eq!(closest("Droput", LAYERS), Some("Dropout"));
        assert_eq!(closest("Softmx", LAYERS), Some("Softmax"));
    }

    #[test]
    fn unrelated_names_find_nothing() {
        assert_eq!(closest("Conv9d", LAYERS), None);
        assert_eq!(closest("X", LAYERS), None);
    }

    #[test]
    fn distance_counts_edits() {
        assert_eq!(distance("kitten", "sitting"), 3);
        assert_eq!(distance("", "abc"), 3);
        assert_eq!(distance("abc", "abc"), 0);
    }
}
