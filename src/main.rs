//! `pbgdpl`: the command line. Wiring only — parsing arguments, opening the catalog and the store,
//! calling the library crates and printing what they return.

mod cli;
mod demo;

fn main() -> std::process::ExitCode {
    // The isolated workbook reader (see `pbgdpl_ingest::read::isolate`) is this same binary.
    if std::env::args().nth(1).as_deref() == Some(cli::WORKER_ARG) {
        return cli::read_worker();
    }
    cli::main()
}
