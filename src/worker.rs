//! The isolated workbook reader is this same binary started with a hidden argument: it caps its own
//! address space, then reads workbooks from stdin until it closes (see
//! `pbgdpl_ingest::read::isolate`).

use std::process::ExitCode;

pub(crate) use pbgdpl_ingest::read::isolate::WORKER_ARG;

/// How the library starts a worker: this binary, with a time limit per file.
pub(crate) fn config() -> Option<pbgdpl_ingest::read::isolate::WorkerConfig> {
    let program = std::env::current_exe().ok()?;
    Some(pbgdpl_ingest::read::isolate::WorkerConfig {
        program,
        args: vec![WORKER_ARG.into()],
        timeout: std::time::Duration::from_secs(10),
    })
}

/// The worker: caps its own address space a little above what it uses at start (the binary and its
/// libraries), then serves. An allocation past the cap aborts this process only; the parent rejects
/// that one file.
pub(crate) fn main() -> ExitCode {
    const HEADROOM: u64 = 384 * 1024 * 1024;
    let vm_now = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmSize:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        })
        .map(|kb| kb * 1024)
        .unwrap_or(1 << 30);
    if rlimit::setrlimit(rlimit::Resource::AS, vm_now + HEADROOM, vm_now + HEADROOM).is_err() {
        return ExitCode::from(3);
    }
    let limits = pbgdpl_ingest::read::Limits::default();
    match pbgdpl_ingest::read::isolate::serve_worker(
        &mut std::io::stdin().lock(),
        &mut std::io::stdout().lock(),
        &limits,
    ) {
        Ok(()) => ExitCode::SUCCESS,
        Err(_) => ExitCode::from(1),
    }
}
