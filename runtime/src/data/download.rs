//! Fetching MNIST and Fashion-MNIST when they are missing (feature
//! `download`).
//!
//! [`mnist::load_or_download`] and
//! [`fashion_mnist::load_or_download`](crate::data::fashion_mnist::load_or_download)
//! call [`download_missing`], which fetches each of the four gzipped files
//! that is not in the directory (as named or with `.gz`), then load.
//!
//! # Sources
//!
//! The mirrors are tried in order, each file on its own: a mirror that
//! answers with an error status, fails mid-transfer or serves a file that
//! fails its checks is reported and the next one is tried. The defaults are
//! [`MNIST_MIRRORS`] and [`FASHION_MNIST_MIRRORS`];
//! [`DownloadOptions::mirrors`] replaces them (a test server, a local cache).
//! A file's URL is the mirror's base URL followed by the file's name with
//! `.gz`: `https://ossci-datasets.s3.amazonaws.com/mnist/train-images-idx3-ubyte.gz`.
//! HTTP proxies are taken from the environment (`HTTPS_PROXY`, `ALL_PROXY`,
//! `NO_PROXY`, …) except for mirrors on the loopback interface.
//!
//! # Checks
//!
//! A downloaded file is decompressed (at most as many bytes as the file
//! should hold, see below) and must then be:
//! - for MNIST, the file whose decompressed content has the SHA-256 digest in
//!   [`expected_sha256`] (the gzip wrappers differ between mirrors, the
//!   content does not);
//! - for both, a valid IDX file of the shape distributed: `u8` data of
//!   60,000 or 10,000 × 28 × 28 (images) or 60,000 or 10,000 (labels), labels
//!   from 0 to 9.
//!
//! Fashion-MNIST is checked by structure only: its authors publish MD5
//! digests of the gzipped files, not SHA-256 digests of their content, and
//! no digest is used here that has not been verified against the files.
//!
//! # Bounds
//!
//! A download stops with [`DownloadError::TooLarge`] past
//! [`DownloadOptions::max_bytes`] ([`MAX_DOWNLOAD_BYTES`], 64 MiB, by
//! default; MNIST's largest file is 9.9 MB gzipped, Fashion-MNIST's about 26 MB).
//! A `Content-Length` above the limit is refused before the body is read,
//! and otherwise used only for the progress bar: the body is streamed to disk
//! through a fixed 64 KiB buffer. The check decompresses at most one byte
//! past the size of the file as distributed (47,040,016 bytes for the
//! training images), so a gzip bomb costs no more.
//!
//! # Atomicity
//!
//! Each file is downloaded into a temporary file of a unique name in the
//! target directory (`.train-images-idx3-ubyte.gz.<pid>.<n>.part`), flushed
//! to disk, checked, and only then renamed to its final name. On any error
//! (an error status, a dropped connection, a short or oversized body, a
//! timeout, a failed check) the temporary file is removed: the directory
//! never holds a partial or unverified file under a name that
//! [`load`](crate::data::mnist::load) reads. Files downloaded before a later
//! one fails are complete and checked, and stay.
//!
//! # Timeouts
//!
//! See [`DownloadOptions`]: 30 s to connect, 60 s for any one read of the
//! connection, 15 minutes for a whole file, by default.
//!
//! # Progress
//!
//! [`Progress::Auto`] (the default) shows an [`indicatif`] progress bar on
//! stderr (bytes, total, rate, time left) when stderr is a terminal, and
//! otherwise writes one line to stderr when a file starts and one when it
//! ends, with its size, time and rate, and one for each mirror that failed.
//! [`Progress::Silent`] writes nothing.

use std::boxed::Box;
use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::string::{String, ToString};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use std::vec::Vec;
use std::{eprintln, format, vec};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use sha2::{Digest, Sha256};

use crate::data::idx::{self, Header};
use crate::data::mnist::{self, Kind, MnistError, Part, Variant};

/// MNIST's mirrors, tried in order: PyTorch's copy on S3, then Google's.
pub const MNIST_MIRRORS: [&str; 2] = [
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
];

/// Fashion-MNIST's mirror: its authors' S3 bucket (plain HTTP).
pub const FASHION_MNIST_MIRRORS: [&str; 1] = [crate::data::fashion_mnist::DOWNLOAD_URL];

/// The default limit on the size of one downloaded file: 64 MiB.
pub const MAX_DOWNLOAD_BYTES: u64 = 64 << 20;

/// The SHA-256 digests of MNIST's four files, decompressed, in the order of
/// [`Part::ALL`].
const MNIST_SHA256: [&str; 4] = [
    "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
];

/// The size of the buffer through which a body is streamed to disk.
const CHUNK: usize = 64 * 1024;

/// The lowercase hex SHA-256 digest that `part` of `variant` must have once
/// decompressed, or `None` if it is checked by structure only
/// (Fashion-MNIST).
///
/// MNIST's digests are those of the canonical files (`train-images-idx3-ubyte`
/// and so on, 47,040,016, 60,008, 7,840,016 and 10,008 bytes):
///
/// | file | SHA-256 of the decompressed file |
/// |---|---|
/// | `train-images-idx3-ubyte` | `ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db` |
/// | `train-labels-idx1-ubyte` | `65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5` |
/// | `t10k-images-idx3-ubyte`  | `0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7` |
/// | `t10k-labels-idx1-ubyte`  | `ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2` |
pub fn expected_sha256(variant: Variant, part: Part) -> Option<&'static str> {
    match variant {
        Variant::Mnist => {
            Part::ALL.iter().zip(MNIST_SHA256).find(|(p, _)| **p == part).map(|(_, d)| d)
        }
        Variant::FashionMnist => None,
    }
}

/// The default mirrors of `variant`, tried in order.
pub fn default_mirrors(variant: Variant) -> &'static [&'static str] {
    match variant {
        Variant::Mnist => &MNIST_MIRRORS,
        Variant::FashionMnist => &FASHION_MNIST_MIRRORS,
    }
}

/// How a download shows its progress.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Progress {
    /// A progress bar if stderr is a terminal, else log lines.
    #[default]
    Auto,
    /// A progress bar on stderr (which hides itself if stderr is not a
    /// terminal).
    Bar,
    /// A line on stderr when a file starts and one when it ends or fails.
    Log,
    /// Nothing.
    Silent,
}

/// Where and how to download: mirrors, limits, timeouts, progress.
///
/// `DownloadOptions::default()` uses the dataset's own mirrors and the
/// limits documented on each field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DownloadOptions {
    /// Base URLs tried in order, each followed by the file's name (a `/` is
    /// put between them if the base does not end with one). Empty (the
    /// default) means the dataset's [`default_mirrors`].
    pub mirrors: Vec<String>,
    /// The largest file accepted, in bytes: [`MAX_DOWNLOAD_BYTES`] by default.
    pub max_bytes: u64,
    /// The time allowed to resolve the host and connect: 30 s by default.
    pub connect_timeout: Duration,
    /// The time allowed for any one read of the connection, so that a
    /// stalled transfer fails: 60 s by default.
    pub read_timeout: Duration,
    /// The time allowed for one file, from the request to the last byte:
    /// 15 minutes by default.
    pub timeout: Duration,
    /// How progress is shown: [`Progress::Auto`] by default.
    pub progress: Progress,
}

impl Default for DownloadOptions {
    fn default() -> Self {
        DownloadOptions {
            mirrors: Vec::new(),
            max_bytes: MAX_DOWNLOAD_BYTES,
            connect_timeout: Duration::from_secs(30),
            read_timeout: Duration::from_secs(60),
            timeout: Duration::from_secs(15 * 60),
            progress: Progress::Auto,
        }
    }
}

impl DownloadOptions {
    /// The default options with these mirrors instead of the dataset's.
    pub fn with_mirrors<I, S>(mirrors: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        DownloadOptions {
            mirrors: mirrors.into_iter().map(Into::into).collect(),
            ..Self::default()
        }
    }
}

/// Why a file could not be downloaded, or the dataset loaded after.
///
/// Every error about a download names its URL, and, where it helps, the
/// file.
#[derive(Debug)]
#[non_exhaustive]
pub enum DownloadError {
    /// The target directory could not be created.
    CreateDir {
        /// The directory.
        dir: PathBuf,
        /// What went wrong.
        source: io::Error,
    },
    /// A file in the target directory could not be created, written or
    /// flushed to disk.
    Io {
        /// The file.
        path: PathBuf,
        /// What was being done: `"create"`, `"write to"`, `"flush"`.
        action: &'static str,
        /// What went wrong.
        source: io::Error,
    },
    /// A checked download could not be renamed into place.
    Rename {
        /// The temporary file (removed since).
        from: PathBuf,
        /// The final name.
        to: PathBuf,
        /// What went wrong.
        source: io::Error,
    },
    /// The request failed before a response: the host was not found, the
    /// connection or TLS failed, a timeout passed, the response was not HTTP.
    Request {
        /// The URL.
        url: String,
        /// What the HTTP client reported.
        source: Box<ureq::Error>,
    },
    /// The server answered with another status than 200 OK.
    Status {
        /// The URL.
        url: String,
        /// The status code: 404 and so on.
        status: u16,
        /// Its reason phrase, if it is a standard one.
        reason: Option<&'static str>,
    },
    /// The body could not be read to its end: the connection dropped or
    /// stalled, or a timeout passed.
    Body {
        /// The URL.
        url: String,
        /// The bytes received before the failure.
        received: u64,
        /// The bytes announced by `Content-Length`, if they were.
        announced: Option<u64>,
        /// What went wrong.
        source: io::Error,
    },
    /// The body ended before the length the server announced.
    ShortBody {
        /// The URL.
        url: String,
        /// The bytes received.
        received: u64,
        /// The bytes announced by `Content-Length`.
        announced: u64,
    },
    /// The file is larger than [`DownloadOptions::max_bytes`].
    TooLarge {
        /// The URL.
        url: String,
        /// The limit, in bytes.
        limit: u64,
        /// The size the server announced, if it did.
        announced: Option<u64>,
    },
    /// The decompressed file's SHA-256 digest is not the one expected.
    Checksum {
        /// The file.
        part: Part,
        /// The URL.
        url: String,
        /// The digest expected, in lowercase hex.
        expected: &'static str,
        /// The digest found, in lowercase hex.
        found: String,
    },
    /// The downloaded file is not a valid (gzipped) IDX file, or holds
    /// labels out of range.
    Invalid {
        /// The file.
        part: Part,
        /// The URL.
        url: String,
        /// What is wrong with it (naming the file as `<name>.gz`).
        source: Box<MnistError>,
    },
    /// The downloaded file is a valid IDX file of another shape than the one
    /// distributed (`u8` data of shape 60,000 × 28 × 28 for
    /// [`Part::TrainImages`], and so on).
    WrongShape {
        /// The file.
        part: Part,
        /// The URL.
        url: String,
        /// The header it has.
        found: Header,
    },
    /// Every mirror failed (when there are several; with one mirror, its
    /// error is returned as it is).
    AllMirrorsFailed {
        /// The file.
        part: Part,
        /// Each mirror's error, in the order tried.
        errors: Vec<DownloadError>,
    },
    /// The files are there, but the dataset could not be loaded from them.
    Load(MnistError),
}

impl DownloadError {
    /// Whether the error is the mirror's fault, so that another may succeed;
    /// errors of the local disk are not.
    fn try_next_mirror(&self) -> bool {
        !matches!(
            self,
            DownloadError::CreateDir { .. }
                | DownloadError::Io { .. }
                | DownloadError::Rename { .. }
                | DownloadError::Load(_)
        )
    }
}

impl fmt::Display for DownloadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DownloadError::CreateDir { dir, source } => {
                write!(f, "cannot create the directory `{}`: {source}", dir.display())
            }
            DownloadError::Io { path, action, source } => {
                write!(f, "cannot {action} `{}`: {source}", path.display())
            }
            DownloadError::Rename { from, to, source } => {
                write!(f, "cannot rename `{}` to `{}`: {source}", from.display(), to.display())
            }
            DownloadError::Request { url, source } => {
                write!(f, "cannot download `{url}`: {source}")
            }
            DownloadError::Status { url, status, reason } => {
                write!(f, "cannot download `{url}`: the server answered {status}")?;
                if let Some(reason) = reason {
                    write!(f, " {reason}")?;
                }
                Ok(())
            }
            DownloadError::Body { url, received, announced, source } => {
                write!(f, "the download of `{url}` failed after {received} ")?;
                match announced {
                    Some(announced) => write!(f, "of the {announced} bytes announced")?,
                    None => f.write_str(bytes(*received))?,
                }
                write!(f, ": {source}")
            }
            DownloadError::ShortBody { url, received, announced } => write!(
                f,
                "the download of `{url}` ended after {received} of the {announced} bytes announced"
            ),
            DownloadError::TooLarge { url, limit, announced } => {
                write!(f, "`{url}` is larger than the download limit of {limit} bytes")?;
                if let Some(announced) = announced {
                    write!(f, " (the server announced {announced})")?;
                }
                Ok(())
            }
            DownloadError::Checksum { part, url, expected, found } => write!(
                f,
                "checksum mismatch for `{}.gz` downloaded from `{url}`: expected the decompressed file to \
                 have SHA-256 {expected}, found {found}; the download was discarded",
                part.name()
            ),
            DownloadError::Invalid { url, source, .. } => write!(
                f,
                "the file downloaded from `{url}` is not valid: {source}; the download was discarded"
            ),
            DownloadError::WrongShape { part, url, found } => {
                write!(f, "`{}.gz` downloaded from `{url}` holds {found}, but ", part.name())?;
                match part.header() {
                    Some(expected) => write!(f, "the file as distributed holds {expected}")?,
                    None => f.write_str("that is not the file as distributed")?,
                }
                f.write_str("; the download was discarded")
            }
            DownloadError::AllMirrorsFailed { part, errors } => {
                write!(
                    f,
                    "cannot download `{}.gz` from any of {} mirrors",
                    part.name(),
                    errors.len()
                )?;
                for (i, error) in errors.iter().enumerate() {
                    let sep = if i == 0 { ": " } else { "; " };
                    write!(f, "{sep}({}) {error}", i.saturating_add(1))?;
                }
                Ok(())
            }
            DownloadError::Load(source) => fmt::Display::fmt(source, f),
        }
    }
}

impl std::error::Error for DownloadError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            DownloadError::CreateDir { source, .. }
            | DownloadError::Io { source, .. }
            | DownloadError::Rename { source, .. }
            | DownloadError::Body { source, .. } => Some(source),
            DownloadError::Request { source, .. } => Some(&**source),
            DownloadError::Invalid { source, .. } => Some(&**source),
            DownloadError::AllMirrorsFailed { errors, .. } => {
                errors.last().map(|e| e as &(dyn std::error::Error + 'static))
            }
            DownloadError::Load(source) => std::error::Error::source(source),
            _ => None,
        }
    }
}

/// `"byte"` or `"bytes"`.
fn bytes(n: u64) -> &'static str {
    if n == 1 { "byte" } else { "bytes" }
}

/// Downloads into `dir` (creating it) each of `variant`'s four files that is
/// not there as named or with `.gz`, and returns the paths of the files
/// downloaded (empty, with no network access at all, if none was missing).
///
/// Files are downloaded one after the other and the first failure stops the
/// rest; see the [module docs](self) for the mirrors, checks, limits and
/// atomicity.
///
/// # Errors
///
/// [`DownloadError::CreateDir`] if `dir` cannot be created, and those of
/// [`download_part`].
pub fn download_missing(
    dir: &Path,
    variant: Variant,
    options: &DownloadOptions,
) -> Result<Vec<PathBuf>, DownloadError> {
    let missing: Vec<Part> = Part::ALL
        .into_iter()
        .filter(|part| mnist::find(dir, part.name(), variant).is_err())
        .collect();
    missing.into_iter().map(|part| download_part(dir, variant, part, options)).collect()
}

/// Downloads one of `variant`'s files into `dir` (creating it) as
/// `<name>.gz`, replacing any file of that name, and returns its path.
///
/// Each mirror is tried in turn until one serves a file that passes the
/// checks; see the [module docs](self).
///
/// # Errors
///
/// For a mirror's failure: [`DownloadError::Request`],
/// [`DownloadError::Status`], [`DownloadError::Body`],
/// [`DownloadError::ShortBody`], [`DownloadError::TooLarge`],
/// [`DownloadError::Checksum`], [`DownloadError::Invalid`] or
/// [`DownloadError::WrongShape`] if there is one mirror, and
/// [`DownloadError::AllMirrorsFailed`] holding each mirror's if there are
/// several. For a failure of the local disk, which stops at once:
/// [`DownloadError::CreateDir`], [`DownloadError::Io`] or
/// [`DownloadError::Rename`].
pub fn download_part(
    dir: &Path,
    variant: Variant,
    part: Part,
    options: &DownloadOptions,
) -> Result<PathBuf, DownloadError> {
    fs::create_dir_all(dir)
        .map_err(|source| DownloadError::CreateDir { dir: dir.to_path_buf(), source })?;
    let name = format!("{}.gz", part.name());
    let mirrors: Vec<&str> = if options.mirrors.is_empty() {
        default_mirrors(variant).to_vec()
    } else {
        options.mirrors.iter().map(String::as_str).collect()
    };
    let mut errors = Vec::new();
    for (i, base) in mirrors.iter().enumerate() {
        let url = join(base, &name);
        match fetch(dir, variant, part, &name, &url, options) {
            Ok(path) => return Ok(path),
            Err(error) if error.try_next_mirror() => {
                if i.saturating_add(1) < mirrors.len() && options.progress != Progress::Silent {
                    eprintln!("warning: {error}; trying the next mirror");
                }
                errors.push(error);
            }
            Err(error) => return Err(error),
        }
    }
    match errors.len() {
        1 => Err(errors.swap_remove(0)),
        _ => Err(DownloadError::AllMirrorsFailed { part, errors }),
    }
}

/// `base` and `name` joined by one `/`.
fn join(base: &str, name: &str) -> String {
    if base.ends_with('/') { format!("{base}{name}") } else { format!("{base}/{name}") }
}

/// Whether the URL's host is on the loopback interface.
fn is_loopback(url: &str) -> bool {
    let Ok(uri) = url.parse::<ureq::http::Uri>() else {
        return false;
    };
    match uri.host() {
        Some(host) => {
            let host = host.trim_start_matches('[').trim_end_matches(']');
            host.eq_ignore_ascii_case("localhost")
                || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
        }
        None => false,
    }
}

/// An HTTP agent with the options' timeouts, that reports error statuses
/// as responses.
fn agent(options: &DownloadOptions, url: &str) -> ureq::Agent {
    let mut config = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_connect(Some(options.connect_timeout))
        .timeout_per_read(Some(options.read_timeout))
        .timeout_global(Some(options.timeout))
        .user_agent(concat!("perceptra/", env!("CARGO_PKG_VERSION")));
    if is_loopback(url) {
        config = config.proxy(None);
    }
    ureq::Agent::new_with_config(config.build())
}

/// One attempt at one file from one URL: download into a temporary file,
/// check, rename into place.
fn fetch(
    dir: &Path,
    variant: Variant,
    part: Part,
    name: &str,
    url: &str,
    options: &DownloadOptions,
) -> Result<PathBuf, DownloadError> {
    let limit = options.max_bytes;
    let too_large = |announced| DownloadError::TooLarge { url: url.to_string(), limit, announced };
    let response = agent(options, url).get(url).call().map_err(|source| {
        DownloadError::Request { url: url.to_string(), source: Box::new(source) }
    })?;
    let status = response.status();
    if status != ureq::http::StatusCode::OK {
        return Err(DownloadError::Status {
            url: url.to_string(),
            status: status.as_u16(),
            reason: status.canonical_reason(),
        });
    }
    let announced = response.body().content_length();
    if announced.is_some_and(|n| n > limit) {
        return Err(too_large(announced));
    }

    let mut temp = TempFile::create(dir, name)?;
    let mut reporter = Reporter::start(options.progress, name, url, announced);
    let mut reader = response.into_body().into_reader();
    let mut buf = vec![0u8; CHUNK];
    let mut received: u64 = 0;
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n.min(buf.len()),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(source) => {
                return Err(DownloadError::Body {
                    url: url.to_string(),
                    received,
                    announced,
                    source,
                });
            }
        };
        received = received.saturating_add(n as u64);
        if received > limit {
            return Err(too_large(announced));
        }
        temp.write(buf.get(..n).unwrap_or_default())?;
        reporter.advance(n as u64);
    }
    if let Some(announced) = announced
        && received != announced
    {
        return Err(DownloadError::ShortBody { url: url.to_string(), received, announced });
    }
    temp.sync()?;
    reporter.finish(received);

    check(&temp.path, variant, part, name, url)?;
    let to = dir.join(name);
    temp.persist(&to)?;
    Ok(to)
}

/// Checks a downloaded file: decompressed within bounds, of the right
/// digest (if known), header and labels.
fn check(
    path: &Path,
    variant: Variant,
    part: Part,
    name: &str,
    url: &str,
) -> Result<(), DownloadError> {
    let invalid =
        |source| DownloadError::Invalid { part, url: url.to_string(), source: Box::new(source) };
    let wrong_shape = |found| DownloadError::WrongShape { part, url: url.to_string(), found };
    let Some(expected) = part.header() else {
        // Unreachable: the header of each part is valid.
        return Ok(());
    };
    let shown = Path::new(name);
    let bytes = match mnist::read_idx_file_limited(path, shown, expected.total_len()) {
        Ok(bytes) => bytes,
        // Larger than expected: a wrong shape, found before reading the data.
        Err(MnistError::TooLarge { header, .. }) => return Err(wrong_shape(header)),
        Err(e) => return Err(invalid(e)),
    };
    if let Some(digest) = expected_sha256(variant, part) {
        let found = hex(Sha256::digest(&bytes).as_slice());
        if found != digest {
            return Err(DownloadError::Checksum {
                part,
                url: url.to_string(),
                expected: digest,
                found,
            });
        }
    }
    let parsed = idx::parse(&bytes)
        .map_err(|source| invalid(MnistError::Idx { path: shown.to_path_buf(), source }))?;
    if *parsed.header() != expected {
        return Err(wrong_shape(*parsed.header()));
    }
    if part.kind() == Kind::Labels {
        mnist::parse_labels(&bytes, shown).map_err(invalid)?;
    }
    Ok(())
}

/// Lowercase hex.
fn hex(bytes: &[u8]) -> String {
    use fmt::Write as _;
    let mut out = String::with_capacity(bytes.len().saturating_mul(2));
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// A file being downloaded, removed on drop unless persisted.
struct TempFile {
    path: PathBuf,
    file: Option<File>,
}

impl TempFile {
    /// Creates `.<name>.<pid>.<n>.part` in `dir`, a name no other file has.
    fn create(dir: &Path, name: &str) -> Result<TempFile, DownloadError> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let mut attempts = 0u32;
        loop {
            let n = COUNTER.fetch_add(1, Ordering::Relaxed);
            let path = dir.join(format!(".{name}.{}.{nanos}-{n}.part", std::process::id()));
            match OpenOptions::new().write(true).create_new(true).open(&path) {
                Ok(file) => return Ok(TempFile { path, file: Some(file) }),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists && attempts < 100 => {
                    attempts = attempts.saturating_add(1);
                }
                Err(source) => {
                    return Err(DownloadError::Io { path, action: "create", source });
                }
            }
        }
    }

    fn io_error(&self, action: &'static str, source: io::Error) -> DownloadError {
        DownloadError::Io { path: self.path.clone(), action, source }
    }

    fn write(&mut self, bytes: &[u8]) -> Result<(), DownloadError> {
        match self.file.as_mut() {
            Some(file) => file.write_all(bytes).map_err(|e| self.io_error("write to", e)),
            None => Ok(()),
        }
    }

    /// Flushes the file's data to disk and closes it.
    fn sync(&mut self) -> Result<(), DownloadError> {
        match self.file.take() {
            Some(file) => file.sync_all().map_err(|e| self.io_error("flush", e)),
            None => Ok(()),
        }
    }

    /// Renames the file to `to`, then flushes the directory entry (on Unix).
    fn persist(mut self, to: &Path) -> Result<(), DownloadError> {
        self.file = None;
        fs::rename(&self.path, to).map_err(|source| DownloadError::Rename {
            from: self.path.clone(),
            to: to.to_path_buf(),
            source,
        })?;
        // Renamed: nothing to remove on drop.
        self.path = PathBuf::new();
        #[cfg(unix)]
        if let Some(dir) = to.parent()
            && let Ok(dir) = File::open(dir)
        {
            let _ = dir.sync_all();
        }
        Ok(())
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        self.file = None;
        if !self.path.as_os_str().is_empty() {
            let _ = fs::remove_file(&self.path);
        }
    }
}

/// Shows a download's progress.
enum Reporter {
    Bar(ProgressBar),
    Log { name: String, start: Instant, done: bool },
    Silent,
}

impl Reporter {
    fn start(progress: Progress, name: &str, url: &str, announced: Option<u64>) -> Reporter {
        let bar = match progress {
            Progress::Silent => return Reporter::Silent,
            Progress::Bar => true,
            Progress::Log => false,
            Progress::Auto => io::stderr().is_terminal(),
        };
        if !bar {
            match announced {
                Some(n) => eprintln!("downloading {url} ({n} bytes)"),
                None => eprintln!("downloading {url}"),
            }
            return Reporter::Log { name: name.to_string(), start: Instant::now(), done: false };
        }
        let template = match announced {
            Some(_) => {
                "{msg} [{bar:30}] {binary_bytes}/{binary_total_bytes} {binary_bytes_per_sec}, {eta} left"
            }
            None => "{msg} {spinner} {binary_bytes} {binary_bytes_per_sec}",
        };
        let style = ProgressStyle::with_template(template)
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
        let bar = ProgressBar::with_draw_target(announced, ProgressDrawTarget::stderr())
            .with_style(style)
            .with_message(format!("downloading {name}"));
        Reporter::Bar(bar)
    }

    fn advance(&mut self, n: u64) {
        if let Reporter::Bar(bar) = self {
            bar.inc(n);
        }
    }

    fn finish(&mut self, received: u64) {
        match self {
            Reporter::Bar(bar) => bar.finish(),
            Reporter::Log { name, start, done } => {
                let secs = start.elapsed().as_secs_f64();
                let rate = if secs > 0.0 { received as f64 / secs / 1e6 } else { 0.0 };
                eprintln!("downloaded {name}: {received} bytes in {secs:.1} s ({rate:.1} MB/s)");
                *done = true;
            }
            Reporter::Silent => {}
        }
    }
}

impl Drop for Reporter {
    fn drop(&mut self) {
        match self {
            Reporter::Bar(bar) if !bar.is_finished() => bar.abandon(),
            Reporter::Log { name, done: false, .. } => eprintln!("download of {name} failed"),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options() {
        let o = DownloadOptions::with_mirrors(["http://a/", "http://b/"]);
        assert_eq!(o.mirrors, ["http://a/", "http://b/"]);
        assert_eq!(o.max_bytes, 64 * 1024 * 1024);
        assert_eq!(o.progress, Progress::Auto);
        assert!(DownloadOptions::default().mirrors.is_empty());
        assert_eq!(default_mirrors(Variant::Mnist), MNIST_MIRRORS);
    }

    #[test]
    fn joins_urls() {
        assert_eq!(join("http://a/b/", "x.gz"), "http://a/b/x.gz");
        assert_eq!(join("http://a/b", "x.gz"), "http://a/b/x.gz");
    }

    #[test]
    fn loopback_hosts() {
        assert!(is_loopback("http://127.0.0.1:8080/x"));
        assert!(is_loopback("http://localhost/x"));
        assert!(is_loopback("http://[::1]:80/"));
        assert!(!is_loopback("https://ossci-datasets.s3.amazonaws.com/mnist/"));
        assert!(!is_loopback("not a url"));
    }

    #[test]
    fn digests_and_headers() {
        assert_eq!(
            expected_sha256(Variant::Mnist, Part::TestLabels),
            Some("ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2")
        );
        assert_eq!(expected_sha256(Variant::FashionMnist, Part::TestLabels), None);
        assert_eq!(hex(&[0, 1, 0xab, 0xff]), "0001abff");
        assert_eq!(
            hex(Sha256::digest(b"abc").as_slice()),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let h = Part::TrainImages.header().unwrap();
        assert_eq!(h.to_string(), "u8 data of shape 60000 × 28 × 28");
        assert_eq!(h.total_len(), 47_040_016);
        assert_eq!(Part::TestLabels.header().unwrap().total_len(), 10_008);
    }

    #[test]
    fn messages() {
        let e = DownloadError::Status {
            url: "http://x/a.gz".into(),
            status: 404,
            reason: Some("Not Found"),
        };
        assert_eq!(
            e.to_string(),
            "cannot download `http://x/a.gz`: the server answered 404 Not Found"
        );
        let e = DownloadError::AllMirrorsFailed {
            part: Part::TestLabels,
            errors: vec![
                e,
                DownloadError::TooLarge {
                    url: "http://y/a.gz".into(),
                    limit: 10,
                    announced: Some(11),
                },
            ],
        };
        assert_eq!(
            e.to_string(),
            "cannot download `t10k-labels-idx1-ubyte.gz` from any of 2 mirrors: (1) cannot download `http://x/a.gz`: the server \
             answered 404 Not Found; (2) `http://y/a.gz` is larger than the download limit of 10 bytes (the \
             server announced 11)"
        );
        assert!(std::error::Error::source(&e).unwrap().to_string().starts_with("`http://y/a.gz`"));
    }
}
