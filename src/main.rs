//! `pbgdpl`: the command line. Parsing arguments, running one command over the shared context, and
//! turning errors into exit codes by who must act on them — nothing else lives here.

mod args;
mod commands;
mod worker;

use std::process::ExitCode;

use clap::Parser;
use pbgdpl_catalog::Fault;

fn main() -> ExitCode {
    // The isolated workbook reader (see `pbgdpl_ingest::read::isolate`) is this same binary.
    if std::env::args().nth(1).as_deref() == Some(worker::WORKER_ARG) {
        return worker::main();
    }
    let cli = match args::Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { Fault::Input.exit_code() } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_env("PBGDPL_LOG"))
        .with_writer(std::io::stderr)
        .init();
    match commands::run(cli) {
        Ok(code) => code,
        Err(e) if broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("lỗi: {e:#}");
            ExitCode::from(fault_of(&e).exit_code())
        }
    }
}

/// The reader of the output went away (`pbgdpl audit | head`): not an error.
fn broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// Who must act on an error: the first error in its chain that knows.
fn fault_of(e: &anyhow::Error) -> Fault {
    for cause in e.chain() {
        if cause.is::<commands::Usage>() {
            return Fault::Input;
        }
        if let Some(e) = cause.downcast_ref::<pbgdpl_catalog::Error>() {
            return e.fault();
        }
        if let Some(e) = cause.downcast_ref::<pbgdpl_store::Error>() {
            return e.fault();
        }
        if let Some(e) = cause.downcast_ref::<pbgdpl_ingest::Error>() {
            return e.fault();
        }
        if let Some(e) = cause.downcast_ref::<pbgdpl_engine::Error>() {
            return e.fault();
        }
        if let Some(e) = cause.downcast_ref::<pbgdpl_reports::Error>() {
            return e.fault();
        }
        if let Some(e) = cause.downcast_ref::<pbgdpl_dashboards::AppError>() {
            return e.fault();
        }
    }
    // What is left is the environment: a file that cannot be written, an address in use.
    Fault::Operator
}
