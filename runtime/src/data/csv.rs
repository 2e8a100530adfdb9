//! Numeric tables from CSV files: [`load`] for classification (a class
//! label column), [`load_regression`] for regression (target columns).
//!
//! Every row must have the same number of columns: `N` features and the
//! target column(s). The features are all the columns that are not targets,
//! in the order of the file; each must be a finite number (`3`, `-0.5`,
//! `1e-3`; spaces around a value are ignored). Which columns are targets is
//! [`CsvOptions::target`]: the last column by default.
//!
//! ```no_run
//! use perceptra_runtime::data::csv::{self, Column, CsvOptions};
//!
//! // sepal_length,sepal_width,petal_length,petal_width,species
//! let iris = csv::load::<f32, 4>("iris.csv", &CsvOptions::new().target(Column::name("species")))?;
//! // The class names, sorted: label 0 is "setosa".
//! let names = iris.class_names.unwrap_or_default();
//! println!("{} rows, classes {names:?}", iris.dataset.len());
//! # Ok::<(), csv::CsvError>(())
//! ```
//!
//! Errors never panic and say where: the line (from 1, counting the header)
//! and the column (from 1) of the value at fault, quoted.

use std::fmt;
use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::string::{String, ToString};
use std::vec::Vec;

use ::csv::{ReaderBuilder, StringRecord, Trim};
use nalgebra::SVector;

use crate::Float;
use crate::data::Dataset;

/// A column of the file.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Column {
    /// The column at this index, from 0.
    Index(usize),
    /// The column of this name in the header row.
    Name(String),
    /// The last column (for [`load_regression`], the last `M` columns).
    Last,
}

impl Column {
    /// The column of this name in the header row.
    pub fn name(name: impl Into<String>) -> Column {
        Column::Name(name.into())
    }
}

impl From<usize> for Column {
    fn from(index: usize) -> Column {
        Column::Index(index)
    }
}

impl From<&str> for Column {
    fn from(name: &str) -> Column {
        Column::Name(name.to_string())
    }
}

impl fmt::Display for Column {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Column::Index(i) => write!(f, "column index {i}"),
            Column::Name(name) => write!(f, "column `{name}`"),
            Column::Last => f.write_str("the last column"),
        }
    }
}

/// How [`load`] turns the label column into class indices.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Labels {
    /// [`Labels::Integers`] if every label is a non-negative integer, else
    /// [`Labels::Names`].
    #[default]
    Auto,
    /// Each label is a non-negative integer (`0`, `1`, `2`), the class index
    /// itself.
    Integers,
    /// Each label is a class name; the distinct names, sorted (byte-wise),
    /// are the classes: the first is class 0. [`Classification::class_names`]
    /// returns them.
    Names,
}

/// How to read a CSV file.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CsvOptions {
    /// The byte between fields: `b','` by default (`b';'`, `b'\t'`, …).
    pub delimiter: u8,
    /// Whether the first row names the columns (and holds no data): `true`
    /// by default.
    pub has_header: bool,
    /// The target column: for [`load`], the class labels; for
    /// [`load_regression`], the first of its `M` consecutive target columns
    /// (or, for [`Column::Last`], the last `M` columns). The last column by
    /// default.
    pub target: Column,
    /// How class labels become indices ([`load`] only): [`Labels::Auto`] by
    /// default.
    pub labels: Labels,
}

impl Default for CsvOptions {
    fn default() -> Self {
        CsvOptions { delimiter: b',', has_header: true, target: Column::Last, labels: Labels::Auto }
    }
}

impl CsvOptions {
    /// The defaults: comma-separated, a header row, the target last, labels
    /// [`Labels::Auto`].
    pub fn new() -> Self {
        Self::default()
    }

    /// These options with another delimiter.
    pub fn delimiter(mut self, delimiter: u8) -> Self {
        self.delimiter = delimiter;
        self
    }

    /// These options with or without a header row.
    pub fn has_header(mut self, has_header: bool) -> Self {
        self.has_header = has_header;
        self
    }

    /// These options with another target column.
    pub fn target(mut self, target: impl Into<Column>) -> Self {
        self.target = target.into();
        self
    }

    /// These options with another label mapping.
    pub fn labels(mut self, labels: Labels) -> Self {
        self.labels = labels;
        self
    }
}

/// A classification table: the dataset and, if the labels were names, the
/// names of the classes.
#[derive(Clone, Debug, PartialEq)]
pub struct Classification<T: Float, const N: usize> {
    /// The rows' features and class indices, in the order of the file.
    pub dataset: Dataset<SVector<T, N>, usize>,
    /// The class names by index (sorted), if the labels were names; `None`
    /// if they were integers.
    pub class_names: Option<Vec<String>>,
}

/// Why a CSV file could not be loaded. Every error names the file.
#[derive(Debug)]
#[non_exhaustive]
pub enum CsvError {
    /// The file could not be opened.
    Io {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        source: io::Error,
    },
    /// The file could not be read as CSV: a read error, or text that is not
    /// UTF-8.
    Csv {
        /// The file.
        path: PathBuf,
        /// What the CSV reader reported.
        source: ::csv::Error,
    },
    /// The file holds no data rows (perhaps a header only).
    Empty {
        /// The file.
        path: PathBuf,
    },
    /// A row has another number of columns than the features and targets
    /// take.
    ColumnCount {
        /// The file.
        path: PathBuf,
        /// The row's line, from 1.
        line: u64,
        /// The number of columns expected: features + targets.
        expected: usize,
        /// The number of feature columns expected.
        features: usize,
        /// The number of target columns expected.
        targets: usize,
        /// The number of columns found.
        found: usize,
    },
    /// A feature or regression target is not a finite number.
    NotANumber {
        /// The file.
        path: PathBuf,
        /// The value's line, from 1.
        line: u64,
        /// The value's column, from 1.
        column: usize,
        /// The column's name in the header row, if there is one.
        name: Option<String>,
        /// The value, trimmed.
        value: String,
    },
    /// The target column is not in the file, or (for [`load_regression`])
    /// there are fewer than `M` columns from it on.
    MissingColumn {
        /// The file.
        path: PathBuf,
        /// The target column asked for.
        column: Column,
        /// The number of target columns.
        targets: usize,
        /// The number of columns of the file.
        columns: usize,
        /// The header row's names, if the file has one.
        header: Option<Vec<String>>,
    },
    /// A class label is not a non-negative integer, with [`Labels::Integers`].
    BadLabel {
        /// The file.
        path: PathBuf,
        /// The label's line, from 1.
        line: u64,
        /// The label's column, from 1.
        column: usize,
        /// The label, trimmed.
        value: String,
    },
}

impl fmt::Display for CsvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CsvError::Io { path, source } => {
                write!(f, "cannot read `{}`: {source}", path.display())
            }
            CsvError::Csv { path, source } => {
                write!(f, "cannot read `{}` as CSV: {source}", path.display())
            }
            CsvError::Empty { path } => write!(f, "`{}` holds no data rows", path.display()),
            CsvError::ColumnCount { path, line, expected, features, targets, found } => write!(
                f,
                "line {line} of `{}` has {found} {}, expected {expected}: {features} {} and {targets} {}",
                path.display(),
                plural(*found, "column", "columns"),
                plural(*features, "feature", "features"),
                plural(*targets, "target", "targets"),
            ),
            CsvError::NotANumber { path, line, column, name, value } => {
                if value.is_empty() {
                    write!(f, "empty value at line {line}, column {column}")?;
                } else {
                    write!(f, "`{value}` at line {line}, column {column}")?;
                }
                if let Some(name) = name {
                    write!(f, " (`{name}`)")?;
                }
                write!(f, " of `{}` is not a finite number", path.display())
            }
            CsvError::MissingColumn { path, column, targets, columns, header } => {
                match column {
                    Column::Name(name) if header.is_none() => {
                        return write!(
                            f,
                            "cannot find the target column `{name}`: `{}` has no header row to name it \
                             (read it with a header row, or give the column's index)",
                            path.display()
                        );
                    }
                    Column::Name(name) if !header.iter().flatten().any(|h| h == name) => {
                        write!(f, "`{}` has no column named `{name}`", path.display())?;
                        if let Some(header) = header {
                            f.write_str("; its columns are ")?;
                            for (i, h) in header.iter().enumerate() {
                                let sep = if i == 0 { "" } else { ", " };
                                write!(f, "{sep}`{h}`")?;
                            }
                        }
                        return Ok(());
                    }
                    _ => {}
                }
                write!(
                    f,
                    "cannot take {targets} target {} from {column}: `{}` has {columns} {}",
                    plural(*targets, "column", "columns"),
                    path.display(),
                    plural(*columns, "column", "columns"),
                )
            }
            CsvError::BadLabel { path, line, column, value } => write!(
                f,
                "label `{value}` at line {line}, column {column} of `{}` is not a non-negative integer \
                 (read labels as names with `Labels::Names` or `Labels::Auto`)",
                path.display()
            ),
        }
    }
}

impl std::error::Error for CsvError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            CsvError::Io { source, .. } => Some(source),
            CsvError::Csv { source, .. } => Some(source),
            _ => None,
        }
    }
}

fn plural(n: usize, one: &'static str, many: &'static str) -> &'static str {
    if n == 1 { one } else { many }
}

/// Loads a classification table: `N` feature columns and one column of
/// class labels ([`CsvOptions::target`]), integers or names
/// ([`CsvOptions::labels`]).
///
/// # Errors
///
/// [`CsvError::Io`] if the file cannot be opened, [`CsvError::Csv`] if it
/// cannot be read, [`CsvError::Empty`] if it has no data rows,
/// [`CsvError::MissingColumn`] if the target column is not there,
/// [`CsvError::ColumnCount`] for the first row (header included) that has
/// not `N + 1` columns, [`CsvError::NotANumber`] for the first feature that
/// is not a finite number, and [`CsvError::BadLabel`] for the first label
/// that is not a non-negative integer with [`Labels::Integers`].
pub fn load<T: Float, const N: usize>(
    path: impl AsRef<Path>,
    options: &CsvOptions,
) -> Result<Classification<T, N>, CsvError> {
    let path = path.as_ref();
    let file = open(path)?;
    let mut inputs = Vec::new();
    let mut labels: Vec<(u64, String)> = Vec::new();
    let mut target_column = 0;
    scan(file, path, options, N, 1, |line, record, layout| {
        inputs.push(features::<T, N>(record, layout, line, path)?);
        target_column = layout.target;
        labels.push((line, record.get(layout.target).unwrap_or_default().to_string()));
        Ok(())
    })?;
    let column = target_column.saturating_add(1);
    let as_integers = match options.labels {
        Labels::Integers => true,
        Labels::Names => false,
        Labels::Auto => labels.iter().all(|(_, l)| l.parse::<usize>().is_ok()),
    };
    let (targets, class_names) = if as_integers {
        let targets = labels
            .iter()
            .map(|(line, value)| {
                value.parse::<usize>().map_err(|_| CsvError::BadLabel {
                    path: path.to_path_buf(),
                    line: *line,
                    column,
                    value: value.clone(),
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        (targets, None)
    } else {
        let mut names: Vec<String> = labels.iter().map(|(_, l)| l.clone()).collect();
        names.sort_unstable();
        names.dedup();
        let targets =
            labels.iter().map(|(_, l)| names.binary_search(l).unwrap_or_default()).collect();
        (targets, Some(names))
    };
    let dataset =
        Dataset::new(inputs, targets).map_err(|_| CsvError::Empty { path: path.to_path_buf() })?;
    Ok(Classification { dataset, class_names })
}

/// Loads a regression table: `N` feature columns and `M` consecutive
/// target columns, from [`CsvOptions::target`] on (the last `M` columns by
/// default), each a finite number. [`CsvOptions::labels`] is ignored.
///
/// # Errors
///
/// Those of [`load`] but [`CsvError::BadLabel`]; a target that is not a
/// finite number is a [`CsvError::NotANumber`].
pub fn load_regression<T: Float, const N: usize, const M: usize>(
    path: impl AsRef<Path>,
    options: &CsvOptions,
) -> Result<Dataset<SVector<T, N>, SVector<T, M>>, CsvError> {
    let path = path.as_ref();
    let file = open(path)?;
    let mut inputs = Vec::new();
    let mut targets = Vec::new();
    scan(file, path, options, N, M, |line, record, layout| {
        inputs.push(features::<T, N>(record, layout, line, path)?);
        let mut target = SVector::<T, M>::zeros();
        for (k, slot) in target.iter_mut().enumerate() {
            *slot = T::of_f64(number(record, layout.target.saturating_add(k), layout, line, path)?);
        }
        targets.push(target);
        Ok(())
    })?;
    Dataset::new(inputs, targets).map_err(|_| CsvError::Empty { path: path.to_path_buf() })
}

fn open(path: &Path) -> Result<File, CsvError> {
    File::open(path).map_err(|source| CsvError::Io { path: path.to_path_buf(), source })
}

/// Where the columns are: `targets` consecutive target columns from
/// `target`, of `width` in all.
struct Layout {
    target: usize,
    targets: usize,
    header: Option<Vec<String>>,
}

impl Layout {
    fn is_target(&self, column: usize) -> bool {
        column >= self.target && column - self.target < self.targets
    }
}

/// Reads the file's rows, checking their widths, and hands each data row
/// with its line to `row`. Fails with [`CsvError::Empty`] if there is none.
fn scan<R: Read, F>(
    reader: R,
    path: &Path,
    options: &CsvOptions,
    features: usize,
    targets: usize,
    mut row: F,
) -> Result<(), CsvError>
where
    F: FnMut(u64, &StringRecord, &Layout) -> Result<(), CsvError>,
{
    let csv_error = |source| CsvError::Csv { path: path.to_path_buf(), source };
    let width = features.saturating_add(targets);
    let column_count = |line, found| CsvError::ColumnCount {
        path: path.to_path_buf(),
        line,
        expected: width,
        features,
        targets,
        found,
    };
    let mut reader = ReaderBuilder::new()
        .delimiter(options.delimiter)
        .has_headers(options.has_header)
        .flexible(true)
        .trim(Trim::All)
        .from_reader(reader);
    let header = if options.has_header {
        let header = reader.headers().map_err(csv_error)?;
        if header.is_empty() {
            return Err(CsvError::Empty { path: path.to_path_buf() });
        }
        Some(header.clone())
    } else {
        None
    };
    let names: Option<Vec<String>> =
        header.as_ref().map(|h| h.iter().map(ToString::to_string).collect());
    let missing = || CsvError::MissingColumn {
        path: path.to_path_buf(),
        column: options.target.clone(),
        targets,
        columns: width,
        header: names.clone(),
    };
    let target = match &options.target {
        Column::Index(i) => *i,
        Column::Last => width.checked_sub(targets).ok_or_else(missing)?,
        Column::Name(name) => names.iter().flatten().position(|h| h == name).ok_or_else(missing)?,
    };
    if let Some(header) = &header
        && header.len() != width
    {
        let line = header.position().map_or(1, |p| p.line());
        return Err(column_count(line, header.len()));
    }
    if target.checked_add(targets).is_none_or(|end| end > width) {
        return Err(missing());
    }
    let layout = Layout { target, targets, header: names };
    let mut rows = 0usize;
    for record in reader.records() {
        let record = record.map_err(csv_error)?;
        let line = record.position().map_or(0, |p| p.line());
        if record.len() != width {
            return Err(column_count(line, record.len()));
        }
        row(line, &record, &layout)?;
        rows = rows.saturating_add(1);
    }
    if rows == 0 {
        return Err(CsvError::Empty { path: path.to_path_buf() });
    }
    Ok(())
}

/// The value in `column` (from 0) as a finite `f64`.
fn number(
    record: &StringRecord,
    column: usize,
    layout: &Layout,
    line: u64,
    path: &Path,
) -> Result<f64, CsvError> {
    let value = record.get(column).unwrap_or_default();
    match value.parse::<f64>() {
        Ok(x) if x.is_finite() => Ok(x),
        _ => Err(CsvError::NotANumber {
            path: path.to_path_buf(),
            line,
            column: column.saturating_add(1),
            name: layout.header.as_ref().and_then(|h| h.get(column)).cloned(),
            value: value.to_string(),
        }),
    }
}

/// The row's feature columns, in order.
fn features<T: Float, const N: usize>(
    record: &StringRecord,
    layout: &Layout,
    line: u64,
    path: &Path,
) -> Result<SVector<T, N>, CsvError> {
    let mut x = SVector::<T, N>::zeros();
    let columns = (0..record.len()).filter(|&c| !layout.is_target(c));
    for (slot, column) in x.iter_mut().zip(columns) {
        *slot = T::of_f64(number(record, column, layout, line, path)?);
    }
    Ok(x)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error as _;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::{format, fs, vec};

    /// A file under the system's temporary directory, removed on drop.
    struct TempFile(PathBuf);

    impl TempFile {
        fn new(contents: &str) -> TempFile {
            static COUNTER: AtomicUsize = AtomicUsize::new(0);
            let n = COUNTER.fetch_add(1, Ordering::Relaxed);
            let path = std::env::temp_dir()
                .join(format!("perceptra-csv-test-{}-{n}.csv", std::process::id()));
            fs::write(&path, contents).unwrap();
            TempFile(path)
        }
    }

    impl Drop for TempFile {
        fn drop(&mut self) {
            let _ = fs::remove_file(&self.0);
        }
    }

    #[test]
    fn class_names_sorted_to_indices() {
        let file = TempFile::new(
            "sepal,petal,species\n5.1, 1.4,setosa\n7.0,4.7,versicolor\n6.3,6.0,virginica\n4.9,1.4,setosa\n",
        );
        let data = load::<f32, 2>(&file.0, &CsvOptions::new().target("species")).unwrap();
        assert_eq!(data.class_names.unwrap(), vec!["setosa", "versicolor", "virginica"]);
        assert_eq!(data.dataset.targets(), &[0, 1, 2, 0]);
        assert_eq!(data.dataset.inputs()[0], SVector::from([5.1f32, 1.4]));
        assert_eq!(data.dataset.inputs()[3], SVector::from([4.9f32, 1.4]));
    }

    #[test]
    fn integer_labels_target_first_no_header_semicolons() {
        let file = TempFile::new("2;1.5;-3\n0;0;1e2\n\n10;2;4\n");
        let options = CsvOptions::new().has_header(false).delimiter(b';').target(0);
        let data = load::<f64, 2>(&file.0, &options).unwrap();
        assert_eq!(data.class_names, None);
        assert_eq!(data.dataset.targets(), &[2, 0, 10]);
        assert_eq!(data.dataset.inputs()[1], SVector::from([0.0, 100.0]));
        // The same labels as names: sorted as strings.
        let data = load::<f64, 2>(&file.0, &options.clone().labels(Labels::Names)).unwrap();
        assert_eq!(data.class_names.unwrap(), vec!["0", "10", "2"]);
        assert_eq!(data.dataset.targets(), &[2, 0, 1]);
    }

    #[test]
    fn bad_integer_label() {
        let file = TempFile::new("a,b,y\n1,2,3\n1,2,cat\n");
        let err = load::<f32, 2>(&file.0, &CsvOptions::new().labels(Labels::Integers)).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "label `cat` at line 3, column 3 of `{}` is not a non-negative integer (read labels as names \
                 with `Labels::Names` or `Labels::Auto`)",
                file.0.display()
            )
        );
    }

    #[test]
    fn regression_with_named_and_last_targets() {
        let file = TempFile::new("x1,y1,y2,x2\n1,10,100,2\n3,30,300,4\n");
        let data = load_regression::<f32, 2, 2>(&file.0, &CsvOptions::new().target("y1")).unwrap();
        assert_eq!(data.inputs(), &[SVector::from([1.0, 2.0]), SVector::from([3.0, 4.0])]);
        assert_eq!(data.targets(), &[SVector::from([10.0, 100.0]), SVector::from([30.0, 300.0])]);
        let data = load_regression::<f64, 3, 1>(&file.0, &CsvOptions::new()).unwrap();
        assert_eq!(data.inputs()[1], SVector::from([3.0, 30.0, 300.0]));
        assert_eq!(data.targets()[1], SVector::from([4.0]));
        // Two targets from the last column: there is only one.
        let err = load_regression::<f64, 2, 2>(&file.0, &CsvOptions::new().target(3)).unwrap_err();
        assert!(matches!(err, CsvError::MissingColumn { .. }), "{err:?}");
        assert_eq!(
            err.to_string(),
            format!(
                "cannot take 2 target columns from column index 3: `{}` has 4 columns",
                file.0.display()
            )
        );
    }

    #[test]
    fn wrong_column_count() {
        let file = TempFile::new("a,b,y\n1,2,0\n1,2\n");
        let err = load::<f32, 2>(&file.0, &CsvOptions::new()).unwrap_err();
        assert!(
            matches!(err, CsvError::ColumnCount { line: 3, expected: 3, found: 2, .. }),
            "{err:?}"
        );
        assert_eq!(
            err.to_string(),
            format!(
                "line 3 of `{}` has 2 columns, expected 3: 2 features and 1 target",
                file.0.display()
            )
        );
        // The header row counts too: here N is wrong.
        let err = load::<f32, 3>(&file.0, &CsvOptions::new()).unwrap_err();
        assert!(
            matches!(err, CsvError::ColumnCount { line: 1, expected: 4, found: 3, .. }),
            "{err:?}"
        );
        // Without a header, the first data row.
        let file = TempFile::new("1,2,0,9\n");
        let err = load::<f32, 2>(&file.0, &CsvOptions::new().has_header(false)).unwrap_err();
        assert!(matches!(err, CsvError::ColumnCount { line: 1, found: 4, .. }), "{err:?}");
    }

    #[test]
    fn non_numeric_values_are_quoted_with_their_place() {
        let file = TempFile::new("a,b,y\n1,2,0\n1, x2 ,1\n");
        let err = load::<f32, 2>(&file.0, &CsvOptions::new()).unwrap_err();
        assert!(matches!(err, CsvError::NotANumber { line: 3, column: 2, .. }), "{err:?}");
        assert_eq!(
            err.to_string(),
            format!(
                "`x2` at line 3, column 2 (`b`) of `{}` is not a finite number",
                file.0.display()
            )
        );
        let file = TempFile::new("1,,0\n");
        let err = load::<f32, 2>(&file.0, &CsvOptions::new().has_header(false)).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "empty value at line 1, column 2 of `{}` is not a finite number",
                file.0.display()
            )
        );
        let file = TempFile::new("1,NaN,0\n");
        let err = load::<f32, 2>(&file.0, &CsvOptions::new().has_header(false)).unwrap_err();
        assert!(matches!(err, CsvError::NotANumber { value, .. } if value == "NaN"));
        // A regression target too.
        let file = TempFile::new("1,2,inf\n");
        let err = load_regression::<f32, 2, 1>(&file.0, &CsvOptions::new().has_header(false))
            .unwrap_err();
        assert!(matches!(err, CsvError::NotANumber { line: 1, column: 3, .. }), "{err:?}");
    }

    #[test]
    fn empty_files() {
        for (contents, has_header) in
            [("", true), ("a,b,y\n", true), ("\n\n", true), ("", false), ("\n", false)]
        {
            let file = TempFile::new(contents);
            let err =
                load::<f32, 2>(&file.0, &CsvOptions::new().has_header(has_header)).unwrap_err();
            assert!(matches!(err, CsvError::Empty { .. }), "{contents:?}: {err:?}");
            assert_eq!(err.to_string(), format!("`{}` holds no data rows", file.0.display()));
            let err =
                load_regression::<f32, 2, 1>(&file.0, &CsvOptions::new().has_header(has_header))
                    .unwrap_err();
            assert!(matches!(err, CsvError::Empty { .. }), "{contents:?}: {err:?}");
        }
    }

    #[test]
    fn missing_target_column() {
        let file = TempFile::new("a,b,y\n1,2,0\n");
        let err = load::<f32, 2>(&file.0, &CsvOptions::new().target("label")).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "`{}` has no column named `label`; its columns are `a`, `b`, `y`",
                file.0.display()
            )
        );
        let err = load::<f32, 2>(&file.0, &CsvOptions::new().target(5)).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "cannot take 1 target column from column index 5: `{}` has 3 columns",
                file.0.display()
            )
        );
        let err =
            load::<f32, 2>(&file.0, &CsvOptions::new().has_header(false).target("y")).unwrap_err();
        assert!(err.to_string().contains("has no header row to name it"), "{err}");
    }

    #[test]
    fn unreadable_files() {
        let path = std::env::temp_dir().join("perceptra-csv-test-does-not-exist.csv");
        let err = load::<f32, 2>(&path, &CsvOptions::new()).unwrap_err();
        assert!(matches!(err, CsvError::Io { .. }));
        assert!(err.to_string().starts_with(&format!("cannot read `{}`: ", path.display())));
        assert!(err.source().is_some());
        let file = TempFile::new("");
        fs::write(&file.0, b"a,b,y\n1,2,\xff\n").unwrap();
        let err = load::<f32, 2>(&file.0, &CsvOptions::new()).unwrap_err();
        assert!(matches!(err, CsvError::Csv { .. }), "{err:?}");
    }

    #[test]
    fn quoted_fields() {
        let file = TempFile::new("a,b,name\n1,2,\"New York, NY\"\n3,4,Paris\n");
        let data = load::<f32, 2>(&file.0, &CsvOptions::new()).unwrap();
        assert_eq!(data.class_names.unwrap(), vec!["New York, NY", "Paris"]);
        assert_eq!(data.dataset.len(), 2);
    }
}
