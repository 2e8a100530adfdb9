//! Downloading MNIST and Fashion-MNIST, against a small HTTP/1.1 server on
//! 127.0.0.1 that serves files from memory (the shared MNIST files when they
//! are there, else made-up ones): no test reaches the internet.

#![cfg(feature = "download")]

use std::collections::HashMap;
use std::error::Error as _;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::Duration;

use flate2::Compression;
use flate2::read::MultiGzDecoder;
use flate2::write::GzEncoder;
use perceptra_runtime::data::download::{self, DownloadError, DownloadOptions, Progress};
use perceptra_runtime::data::fashion_mnist;
use perceptra_runtime::data::mnist::{self, MnistError, Part, Variant};
use sha2::{Digest, Sha256};

/// What the server answers for a path.
#[derive(Clone)]
enum Reply {
    /// 200 OK with the body and its `Content-Length`.
    Ok(Arc<Vec<u8>>),
    /// 200 OK with the body and no `Content-Length`: it ends when the
    /// connection closes.
    Unsized(Arc<Vec<u8>>),
    /// 200 OK announcing the whole body, then only the first bytes of it,
    /// then the connection closes.
    Truncated(Arc<Vec<u8>>, usize),
    /// Reads the request and answers nothing for a while.
    Hang,
}

/// A server on 127.0.0.1 in a thread; unknown paths get 404.
struct Server {
    base: String,
    requests: Arc<AtomicUsize>,
}

impl Server {
    fn start(routes: HashMap<String, Reply>) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}/", listener.local_addr().unwrap());
        let requests = Arc::new(AtomicUsize::new(0));
        let count = Arc::clone(&requests);
        let routes = Arc::new(routes);
        thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                count.fetch_add(1, Ordering::SeqCst);
                let routes = Arc::clone(&routes);
                thread::spawn(move || {
                    let _ = answer(stream, &routes);
                });
            }
        });
        Server { base, requests }
    }

    /// The URL of a mirror at `prefix` (`"mnist/"`) on this server.
    fn mirror(&self, prefix: &str) -> String {
        format!("{}{prefix}", self.base)
    }

    fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

fn answer(stream: TcpStream, routes: &HashMap<String, Reply>) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line == "\r\n" || line == "\n" {
            break;
        }
    }
    let path = request_line.split_whitespace().nth(1).unwrap_or("/").to_string();
    let mut stream = stream;
    match routes.get(&path) {
        None => {
            let body = b"not found";
            write!(
                stream,
                "HTTP/1.1 404 Not Found\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            )?;
            stream.write_all(body)?;
        }
        Some(Reply::Ok(body)) => {
            write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: application/gzip\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            )?;
            stream.write_all(body)?;
        }
        Some(Reply::Unsized(body)) => {
            write!(stream, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n")?;
            stream.write_all(body)?;
        }
        Some(Reply::Truncated(body, sent)) => {
            write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            )?;
            stream.write_all(&body[..*sent])?;
        }
        Some(Reply::Hang) => thread::sleep(Duration::from_secs(5)),
    }
    stream.flush()?;
    stream.shutdown(std::net::Shutdown::Both)
}

/// The shared MNIST files, if they are there.
fn shared_mnist() -> Option<PathBuf> {
    let dir = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/data/mnist"));
    if dir.is_dir() {
        Some(dir.to_path_buf())
    } else {
        println!("skipping: MNIST not found at {}", dir.display());
        None
    }
}

/// The shared gzipped file of `part`.
fn shared_file(dir: &Path, part: Part) -> Arc<Vec<u8>> {
    Arc::new(std::fs::read(dir.join(format!("{}.gz", part.name()))).unwrap())
}

/// A directory under the system's temporary directory, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir()
            .join(format!("perceptra-download-test-{}-{name}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    /// The names of the files in the directory, sorted.
    fn files(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&self.0)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        names
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Silent options with short timeouts and these mirrors.
fn options<S: AsRef<str>>(mirrors: &[S]) -> DownloadOptions {
    DownloadOptions {
        mirrors: mirrors.iter().map(|m| m.as_ref().to_string()).collect(),
        connect_timeout: Duration::from_secs(5),
        read_timeout: Duration::from_secs(5),
        timeout: Duration::from_secs(60),
        progress: Progress::Silent,
        ..DownloadOptions::default()
    }
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    MultiGzDecoder::new(bytes).read_to_end(&mut out).unwrap();
    out
}

fn sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// An IDX label file of these labels.
fn labels(values: &[u8]) -> Vec<u8> {
    let mut out = 0x0000_0801u32.to_be_bytes().to_vec();
    out.extend_from_slice(&(values.len() as u32).to_be_bytes());
    out.extend_from_slice(values);
    out
}

/// An IDX image file of `n` images, pixel `p` of image `i` being `(i + p) % 256`.
fn images(n: usize) -> Vec<u8> {
    let mut out = 0x0000_0803u32.to_be_bytes().to_vec();
    for d in [n as u32, 28, 28] {
        out.extend_from_slice(&d.to_be_bytes());
    }
    out.extend((0..n * 784).map(|k| (k / 784 + k % 784) as u8));
    out
}

/// 60,000 labels cycling through 0 to 9: a valid training label file that
/// is not MNIST's.
fn made_up_train_labels() -> Vec<u8> {
    labels(&(0..60_000).map(|i| (i % 10) as u8).collect::<Vec<_>>())
}

const TRAIN_LABELS_GZ: &str = "train-labels-idx1-ubyte.gz";

/// (a) and (d): into a directory that does not exist yet, past a mirror
/// that answers 404 to everything, the four files, checked; then loaded.
#[test]
fn downloads_into_an_empty_directory_and_loads() {
    let Some(shared) = shared_mnist() else { return };
    let routes = Part::ALL
        .into_iter()
        .map(|part| (format!("/mnist/{}.gz", part.name()), Reply::Ok(shared_file(&shared, part))))
        .collect();
    let server = Server::start(routes);
    let temp = TempDir::new("full");
    let dir = temp.0.join("data").join("mnist");
    let opts = options(&[server.mirror("missing/"), server.mirror("mnist/")]);

    let data = mnist::load_or_download_with::<f32>(&dir, &opts).unwrap();
    assert_eq!(data.train.len(), 60_000);
    assert_eq!(data.test.len(), 10_000);
    let mut counts = [0usize; 10];
    for &label in data.test.targets() {
        counts[label] += 1;
    }
    assert_eq!(counts, [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]);
    // Two requests per file: the 404, then the download.
    assert_eq!(server.requests(), 8);
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "t10k-images-idx3-ubyte.gz",
            "t10k-labels-idx1-ubyte.gz",
            "train-images-idx3-ubyte.gz",
            "train-labels-idx1-ubyte.gz"
        ]
    );
    // The files are there now: (e), no request at all the second time.
    let again = mnist::load_or_download_with::<f32>(&dir, &opts).unwrap();
    assert_eq!(again.train.len(), 60_000);
    assert_eq!(server.requests(), 8);
}

/// (b): a valid label file of the right shape whose content is not MNIST's.
#[test]
fn checksum_mismatch_leaves_nothing_behind() {
    let body = made_up_train_labels();
    let found = sha256(&body);
    let routes =
        HashMap::from([(format!("/m/{TRAIN_LABELS_GZ}"), Reply::Ok(Arc::new(gzip(&body))))]);
    let server = Server::start(routes);
    let dir = TempDir::new("checksum");
    let url = format!("{}m/{TRAIN_LABELS_GZ}", server.base);

    let err = download::download_part(
        &dir.0,
        Variant::Mnist,
        Part::TrainLabels,
        &options(&[server.mirror("m/")]),
    )
    .unwrap_err();
    let DownloadError::Checksum { part, url: err_url, expected, found: err_found } = &err else {
        panic!("{err:?}");
    };
    assert_eq!(*part, Part::TrainLabels);
    assert_eq!(err_url, &url);
    assert_eq!(*expected, "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5");
    assert_eq!(err_found, &found);
    assert_eq!(
        err.to_string(),
        format!(
            "checksum mismatch for `{TRAIN_LABELS_GZ}` downloaded from `{url}`: expected the decompressed file \
             to have SHA-256 65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5, found {found}; \
             the download was discarded"
        )
    );
    assert_eq!(dir.files(), Vec::<String>::new());

    // Through `load_or_download`: the same error, nothing left, not even the directory's
    // other files are touched.
    std::fs::write(dir.0.join("keep.txt"), b"mine").unwrap();
    let err =
        mnist::load_or_download_with::<f32>(&dir.0, &options(&[server.mirror("m/")])).unwrap_err();
    // The training images come first and are not served.
    assert!(matches!(err, DownloadError::Status { status: 404, .. }), "{err:?}");
    assert_eq!(dir.files(), ["keep.txt"]);
}

/// (b), on the real file: one pixel flipped in the decompressed content.
#[test]
fn one_flipped_byte_is_caught() {
    let Some(shared) = shared_mnist() else { return };
    let mut content = gunzip(&shared_file(&shared, Part::TestLabels));
    assert_eq!(
        sha256(&content),
        "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"
    );
    // Label 5000: still a digit, but not the right one.
    content[8 + 5000] = (content[8 + 5000] + 1) % 10;
    let routes = HashMap::from([(
        "/t10k-labels-idx1-ubyte.gz".to_string(),
        Reply::Ok(Arc::new(gzip(&content))),
    )]);
    let server = Server::start(routes);
    let dir = TempDir::new("flip");
    let err = download::download_part(
        &dir.0,
        Variant::Mnist,
        Part::TestLabels,
        &options(&[&server.base]),
    )
    .unwrap_err();
    assert!(
        matches!(&err, DownloadError::Checksum { found, .. } if *found == sha256(&content)),
        "{err:?}"
    );
    assert_eq!(dir.files(), Vec::<String>::new());
}

/// A gzip stream cut short, served with a matching `Content-Length`: the
/// transfer is complete, the file is not.
#[test]
fn corrupt_gzip_is_invalid() {
    let gz = gzip(&made_up_train_labels());
    let cut = Arc::new(gz[..gz.len() / 2].to_vec());
    let routes = HashMap::from([(format!("/{TRAIN_LABELS_GZ}"), Reply::Ok(cut))]);
    let server = Server::start(routes);
    let dir = TempDir::new("gzip");
    let err = download::download_part(
        &dir.0,
        Variant::Mnist,
        Part::TrainLabels,
        &options(&[&server.base]),
    )
    .unwrap_err();
    assert!(
        matches!(&err, DownloadError::Invalid { source, .. } if matches!(**source, MnistError::Gzip { .. })),
        "{err:?}"
    );
    let url = format!("{}{TRAIN_LABELS_GZ}", server.base);
    assert!(
        err.to_string().starts_with(&format!(
            "the file downloaded from `{url}` is not valid: cannot decompress `{TRAIN_LABELS_GZ}`: "
        )),
        "{err}"
    );
    assert!(err.source().is_some());
    assert_eq!(dir.files(), Vec::<String>::new());
}

/// (c): headers announcing the whole file, half of it, then the connection
/// closes.
#[test]
fn dropped_connection_leaves_nothing_behind() {
    let body = Arc::new(gzip(&made_up_train_labels()));
    let half = body.len() / 2;
    let routes = HashMap::from([
        (format!("/a/{TRAIN_LABELS_GZ}"), Reply::Truncated(Arc::clone(&body), half)),
        // Without a `Content-Length`, the cut is found by the check.
        (format!("/b/{TRAIN_LABELS_GZ}"), Reply::Unsized(Arc::new(body[..half].to_vec()))),
    ]);
    let server = Server::start(routes);
    let dir = TempDir::new("dropped");

    let opts = options(&[server.mirror("a/")]);
    let err =
        download::download_part(&dir.0, Variant::Mnist, Part::TrainLabels, &opts).unwrap_err();
    let url = format!("{}a/{TRAIN_LABELS_GZ}", server.base);
    match &err {
        DownloadError::Body { url: u, received, announced, .. } => {
            assert_eq!(u, &url);
            assert!(*received <= half as u64, "{received}");
            assert_eq!(*announced, Some(body.len() as u64));
            assert!(
                err.to_string().starts_with(&format!(
                    "the download of `{url}` failed after {received} of the {} bytes announced: ",
                    body.len()
                )),
                "{err}"
            );
        }
        DownloadError::ShortBody { url: u, received, announced } => {
            assert_eq!(u, &url);
            assert_eq!((*received, *announced), (half as u64, body.len() as u64));
        }
        _ => panic!("{err:?}"),
    }
    assert_eq!(dir.files(), Vec::<String>::new());

    let opts = options(&[server.mirror("b/")]);
    let err =
        download::download_part(&dir.0, Variant::Mnist, Part::TrainLabels, &opts).unwrap_err();
    assert!(matches!(err, DownloadError::Invalid { .. }), "{err:?}");
    assert_eq!(dir.files(), Vec::<String>::new());
}

/// (d): a 404 names the URL; the next mirror is tried, and its file kept.
#[test]
fn not_found_falls_through_to_the_next_mirror() {
    let Some(shared) = shared_mnist() else { return };
    let routes = HashMap::from([(
        format!("/good/{TRAIN_LABELS_GZ}"),
        Reply::Ok(shared_file(&shared, Part::TrainLabels)),
    )]);
    let server = Server::start(routes);
    let dir = TempDir::new("fallthrough");
    let missing = format!("{}gone/{TRAIN_LABELS_GZ}", server.base);

    // One mirror: its error as it is.
    let err = download::download_part(
        &dir.0,
        Variant::Mnist,
        Part::TrainLabels,
        &options(&[server.mirror("gone")]),
    )
    .unwrap_err();
    assert!(matches!(err, DownloadError::Status { status: 404, .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        format!("cannot download `{missing}`: the server answered 404 Not Found")
    );
    assert_eq!(dir.files(), Vec::<String>::new());

    // Two failing mirrors: both reported.
    let opts = options(&[server.mirror("gone/"), server.mirror("also-gone/")]);
    let err =
        download::download_part(&dir.0, Variant::Mnist, Part::TrainLabels, &opts).unwrap_err();
    let DownloadError::AllMirrorsFailed { part: Part::TrainLabels, errors } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(errors.len(), 2);
    assert_eq!(
        err.to_string(),
        format!(
            "cannot download `{TRAIN_LABELS_GZ}` from any of 2 mirrors: (1) cannot download `{missing}`: the \
             server answered 404 Not Found; (2) cannot download `{}also-gone/{TRAIN_LABELS_GZ}`: the server \
             answered 404 Not Found",
            server.base
        )
    );

    // A working mirror after the failing one.
    let opts = options(&[server.mirror("gone/"), server.mirror("good/")]);
    let path = download::download_part(&dir.0, Variant::Mnist, Part::TrainLabels, &opts).unwrap();
    assert_eq!(path, dir.0.join(TRAIN_LABELS_GZ));
    assert_eq!(dir.files(), [TRAIN_LABELS_GZ]);
    assert_eq!(std::fs::read(&path).unwrap(), *shared_file(&shared, Part::TrainLabels));
}

/// (e): all four files present (here tiny made-up ones): loaded, and the
/// server never hears from us.
#[test]
fn present_files_need_no_network() {
    let server = Server::start(HashMap::new());
    let dir = TempDir::new("present");
    std::fs::write(dir.0.join("train-images-idx3-ubyte.gz"), gzip(&images(3))).unwrap();
    std::fs::write(dir.0.join("train-labels-idx1-ubyte"), labels(&[7, 0, 9])).unwrap();
    std::fs::write(dir.0.join("t10k-images-idx3-ubyte"), images(2)).unwrap();
    std::fs::write(dir.0.join("t10k-labels-idx1-ubyte.gz"), gzip(&labels(&[1, 2]))).unwrap();
    let opts = options(&[&server.base]);

    let data = mnist::load_or_download_with::<f32>(&dir.0, &opts).unwrap();
    assert_eq!(data.train.targets(), &[7, 0, 9]);
    assert_eq!(data.test.len(), 2);
    let data = fashion_mnist::load_or_download_with::<f64>(&dir.0, &opts).unwrap();
    assert_eq!(data.train.len(), 3);
    assert_eq!(
        download::download_missing(&dir.0, Variant::Mnist, &opts).unwrap(),
        Vec::<PathBuf>::new()
    );
    // A mirror nobody listens on: never tried.
    let nowhere = options(&["http://127.0.0.1:1/"]);
    assert!(mnist::load_or_download_with::<f32>(&dir.0, &nowhere).is_ok());
    // The default mirrors: not tried either.
    let pixels = mnist::load_or_download_pixels(&dir.0).unwrap();
    assert_eq!(pixels.train.targets(), &[7, 0, 9]);
    assert_eq!(pixels.test.inputs()[1].to_vector::<f32>(), data_f32_test_1(&dir.0));
    assert_eq!(server.requests(), 0);
    assert_eq!(dir.files().len(), 4);
}

/// The second test image as `load` reads it.
fn data_f32_test_1(dir: &std::path::Path) -> perceptra_runtime::data::mnist::Image<f32> {
    mnist::load::<f32>(dir).unwrap().test.inputs()[1]
}

/// The size limit, with and without an announced length: nothing kept.
#[test]
fn too_large_downloads_stop_at_the_limit() {
    let body = Arc::new(gzip(&made_up_train_labels()));
    let routes = HashMap::from([
        (format!("/sized/{TRAIN_LABELS_GZ}"), Reply::Ok(Arc::clone(&body))),
        (format!("/unsized/{TRAIN_LABELS_GZ}"), Reply::Unsized(Arc::clone(&body))),
    ]);
    let server = Server::start(routes);
    let dir = TempDir::new("large");
    let limit = (body.len() / 3) as u64;

    let opts = DownloadOptions { max_bytes: limit, ..options(&[server.mirror("sized/")]) };
    let err =
        download::download_part(&dir.0, Variant::Mnist, Part::TrainLabels, &opts).unwrap_err();
    assert!(
        matches!(err, DownloadError::TooLarge { announced: Some(n), .. } if n == body.len() as u64),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        format!(
            "`{}sized/{TRAIN_LABELS_GZ}` is larger than the download limit of {limit} bytes (the server announced {})",
            server.base,
            body.len()
        )
    );
    assert_eq!(dir.files(), Vec::<String>::new());

    let opts = DownloadOptions { max_bytes: limit, ..options(&[server.mirror("unsized/")]) };
    let err =
        download::download_part(&dir.0, Variant::Mnist, Part::TrainLabels, &opts).unwrap_err();
    assert!(matches!(err, DownloadError::TooLarge { announced: None, .. }), "{err:?}");
    assert_eq!(dir.files(), Vec::<String>::new());
}

/// A server that never answers: the read timeout ends the wait.
#[test]
fn a_silent_server_times_out() {
    let routes = HashMap::from([(format!("/{TRAIN_LABELS_GZ}"), Reply::Hang)]);
    let server = Server::start(routes);
    let dir = TempDir::new("hang");
    let opts =
        DownloadOptions { read_timeout: Duration::from_millis(300), ..options(&[&server.base]) };
    let start = std::time::Instant::now();
    let err =
        download::download_part(&dir.0, Variant::Mnist, Part::TrainLabels, &opts).unwrap_err();
    assert!(start.elapsed() < Duration::from_secs(4), "{:?}", start.elapsed());
    assert!(matches!(err, DownloadError::Request { .. }), "{err:?}");
    assert!(
        err.to_string()
            .starts_with(&format!("cannot download `{}{TRAIN_LABELS_GZ}`: ", server.base)),
        "{err}"
    );
    assert!(err.to_string().contains("timeout"), "{err}");
    assert_eq!(dir.files(), Vec::<String>::new());
}

/// Fashion-MNIST is checked by structure: any valid file of the right shape
/// passes, a wrong shape or label does not.
#[test]
fn fashion_mnist_is_checked_by_structure() {
    let mut wrong_label = made_up_train_labels();
    wrong_label[8 + 123] = 10;
    let routes = HashMap::from([
        (format!("/ok/{TRAIN_LABELS_GZ}"), Reply::Ok(Arc::new(gzip(&made_up_train_labels())))),
        (format!("/short/{TRAIN_LABELS_GZ}"), Reply::Ok(Arc::new(gzip(&labels(&[1, 2, 3]))))),
        (format!("/images/{TRAIN_LABELS_GZ}"), Reply::Ok(Arc::new(gzip(&images(2))))),
        (format!("/label/{TRAIN_LABELS_GZ}"), Reply::Ok(Arc::new(gzip(&wrong_label)))),
    ]);
    let server = Server::start(routes);
    let dir = TempDir::new("fashion");
    let fetch = |prefix: &str| {
        download::download_part(
            &dir.0,
            Variant::FashionMnist,
            Part::TrainLabels,
            &options(&[server.mirror(prefix)]),
        )
    };

    let err = fetch("short/").unwrap_err();
    assert!(matches!(err, DownloadError::WrongShape { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        format!(
            "`{TRAIN_LABELS_GZ}` downloaded from `{}short/{TRAIN_LABELS_GZ}` holds u8 data of shape 3, but the file \
             as distributed holds u8 data of shape 60000; the download was discarded",
            server.base
        )
    );
    let err = fetch("images/").unwrap_err();
    assert!(matches!(err, DownloadError::WrongShape { .. }), "{err:?}");
    let err = fetch("label/").unwrap_err();
    assert!(
        matches!(&err, DownloadError::Invalid { source, .. } if matches!(**source, MnistError::LabelOutOfRange { index: 123, value: 10, .. })),
        "{err:?}"
    );
    assert_eq!(dir.files(), Vec::<String>::new());

    assert_eq!(fetch("ok/").unwrap(), dir.0.join(TRAIN_LABELS_GZ));
    assert_eq!(dir.files(), [TRAIN_LABELS_GZ]);
    // The same file is no MNIST: its checksum is wrong.
    let err = download::download_part(
        &dir.0,
        Variant::Mnist,
        Part::TrainLabels,
        &options(&[server.mirror("ok/")]),
    )
    .unwrap_err();
    assert!(matches!(err, DownloadError::Checksum { .. }), "{err:?}");
    // The file already there is untouched by the failed replacement.
    assert_eq!(dir.files(), [TRAIN_LABELS_GZ]);
    assert_eq!(
        gunzip(&std::fs::read(dir.0.join(TRAIN_LABELS_GZ)).unwrap()),
        made_up_train_labels()
    );
    assert_eq!(download::default_mirrors(Variant::FashionMnist), [fashion_mnist::DOWNLOAD_URL]);
}
