//! Parsing untrusted workbooks in a separate, bounded process.
//!
//! calamine has no limits and Rust aborts the whole process when an allocation fails, so a few KB of
//! hostile workbook can kill a server or a bulk import. The parent sends each file to a worker process
//! (the `pbgdpl` binary itself, started with a hidden subcommand, which caps its own address space)
//! and waits a bounded time for the sheets. A worker that dies or overruns only rejects the file it was
//! reading; the next file gets a fresh worker. Frames on the pipes: an 8-byte little-endian length,
//! then the bytes (a workbook one way, a JSON `Result<Vec<Grid>, Issue>` the other).

use std::io::{BufReader, Read, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::Duration;

use super::grid::{Grid, Limits, read_sheets};
use pbgdpl_catalog::model::{Issue, Rule};

/// The argument that turns the `pbgdpl` binary into a worker.
pub const WORKER_ARG: &str = "__read-worker";

/// How to start a worker.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    pub program: PathBuf,
    pub args: Vec<String>,
    /// Longest time one file may take.
    pub timeout: Duration,
}

/// A worker process, started on first use and again after it dies.
pub struct Worker {
    config: WorkerConfig,
    running: Option<Running>,
}

struct Running {
    child: Child,
    stdin: ChildStdin,
    replies: Receiver<std::io::Result<Vec<u8>>>,
}

fn write_frame(w: &mut impl Write, bytes: &[u8]) -> std::io::Result<()> {
    w.write_all(&(bytes.len() as u64).to_le_bytes())?;
    w.write_all(bytes)?;
    w.flush()
}

fn read_frame(r: &mut impl Read, max: u64) -> std::io::Result<Option<Vec<u8>>> {
    let mut len = [0u8; 8];
    match r.read_exact(&mut len) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let len = u64::from_le_bytes(len);
    if len > max {
        return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, "frame too large"));
    }
    let mut buf = vec![0u8; len as usize];
    r.read_exact(&mut buf)?;
    Ok(Some(buf))
}

impl Worker {
    pub fn new(config: WorkerConfig) -> Worker {
        Worker { config, running: None }
    }

    fn start(&mut self) -> std::io::Result<&mut Running> {
        if self.running.is_none() {
            let mut child = Command::new(&self.config.program)
                .args(&self.config.args)
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()?;
            let stdin = child.stdin.take().ok_or_else(|| std::io::Error::other("no stdin"))?;
            let mut stdout = BufReader::new(child.stdout.take().ok_or_else(|| std::io::Error::other("no stdout"))?);
            let (tx, rx) = channel();
            std::thread::spawn(move || {
                loop {
                    match read_frame(&mut stdout, 1 << 30) {
                        Ok(Some(frame)) => {
                            if tx.send(Ok(frame)).is_err() {
                                break;
                            }
                        }
                        Ok(None) => {
                            let _ = tx.send(Err(std::io::ErrorKind::UnexpectedEof.into()));
                            break;
                        }
                        Err(e) => {
                            let _ = tx.send(Err(e));
                            break;
                        }
                    }
                }
            });
            self.running = Some(Running {
                child,
                stdin,
                replies: rx,
            });
        }
        self.running
            .as_mut()
            .ok_or_else(|| std::io::Error::other("worker did not start"))
    }

    /// Stops the worker (it is restarted on the next file).
    fn kill(&mut self) -> Option<std::process::ExitStatus> {
        let mut r = self.running.take()?;
        let _ = r.child.kill();
        r.child.wait().ok()
    }

    /// Reads a workbook's sheets in the worker. Never panics or aborts: a worker that dies, overruns
    /// its time or answers nonsense rejects this file only.
    pub fn read_sheets(&mut self, bytes: &[u8]) -> Result<Vec<Grid>, Issue> {
        let timeout = self.config.timeout;
        let reply = match self.start() {
            Err(e) => {
                return Err(Issue::error(
                    Rule::CorruptFile,
                    format!("Không khởi động được tiến trình đọc tệp: {e}"),
                ));
            }
            Ok(r) => match write_frame(&mut r.stdin, bytes) {
                Err(_) => Err(RecvTimeoutError::Disconnected),
                Ok(()) => r.replies.recv_timeout(timeout),
            },
        };
        match reply {
            Ok(Ok(json)) => serde_json::from_slice::<Result<Vec<Grid>, Issue>>(&json).unwrap_or_else(|e| {
                self.kill();
                Err(Issue::error(
                    Rule::CorruptFile,
                    format!("Tiến trình đọc tệp trả lời không hợp lệ: {e}"),
                ))
            }),
            Err(RecvTimeoutError::Timeout) => {
                self.kill();
                Err(Issue::error(
                    Rule::TooLarge,
                    format!(
                        "Đọc tệp quá {} giây: tệp quá lớn hoặc quá phức tạp",
                        timeout.as_secs().max(1)
                    ),
                ))
            }
            Ok(Err(_)) | Err(RecvTimeoutError::Disconnected) => {
                let status = self.kill();
                Err(Issue::error(
                    Rule::TooLarge,
                    format!(
                        "Tệp vượt giới hạn bộ nhớ khi đọc (tiến trình đọc dừng: {}); tệp quá lớn hoặc bị làm hỏng",
                        status.map(|s| s.to_string()).unwrap_or_else(|| "không rõ".into())
                    ),
                ))
            }
        }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        // Closing stdin ends the worker's loop; kill is the fallback.
        if let Some(mut r) = self.running.take() {
            drop(r.stdin);
            if !matches!(r.child.try_wait(), Ok(Some(_))) {
                std::thread::sleep(Duration::from_millis(5));
                if !matches!(r.child.try_wait(), Ok(Some(_))) {
                    let _ = r.child.kill();
                }
            }
            let _ = r.child.wait();
        }
    }
}

/// The worker's side: reads workbooks from `input` until it closes, answers each with its sheets.
/// The caller has already capped this process's memory.
pub fn serve_worker(input: &mut impl Read, output: &mut impl Write, limits: &Limits) -> std::io::Result<()> {
    while let Some(bytes) = read_frame(input, limits.max_file_bytes + 1)? {
        let result = read_sheets(&bytes, limits);
        drop(bytes);
        let json = serde_json::to_vec(&result).map_err(std::io::Error::other)?;
        write_frame(output, &json)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip() {
        let mut buf = Vec::new();
        write_frame(&mut buf, b"abc").unwrap();
        write_frame(&mut buf, b"").unwrap();
        let mut r = buf.as_slice();
        assert_eq!(read_frame(&mut r, 10).unwrap(), Some(b"abc".to_vec()));
        assert_eq!(read_frame(&mut r, 10).unwrap(), Some(Vec::new()));
        assert_eq!(read_frame(&mut r, 10).unwrap(), None);
        let mut big = Vec::new();
        write_frame(&mut big, &[0; 20]).unwrap();
        assert!(read_frame(&mut big.as_slice(), 10).is_err());
    }

    #[test]
    fn a_worker_that_dies_rejects_the_file_and_the_next_one_starts_fresh() {
        // `false` exits at once: the same path as a worker killed by the memory cap.
        let mut w = Worker::new(WorkerConfig {
            program: "false".into(),
            args: vec![],
            timeout: Duration::from_secs(5),
        });
        let e = w.read_sheets(b"PK\x03\x04").unwrap_err();
        assert_eq!(e.rule, Rule::TooLarge);
        let e = w.read_sheets(b"PK\x03\x04").unwrap_err();
        assert_eq!(e.rule, Rule::TooLarge);
    }

    #[test]
    fn a_worker_that_hangs_is_stopped_at_the_timeout() {
        let mut w = Worker::new(WorkerConfig {
            program: "sleep".into(),
            args: vec!["30".into()],
            timeout: Duration::from_millis(300),
        });
        let start = std::time::Instant::now();
        let e = w.read_sheets(b"x").unwrap_err();
        assert_eq!(e.rule, Rule::TooLarge);
        assert!(start.elapsed() < Duration::from_secs(5));
    }
}
