//! `pbgdpl`: the command line. Wiring only — parsing arguments, opening the catalog and the store,
//! calling the library crates and printing what they return.

mod cli;
mod demo;

fn main() -> std::process::ExitCode {
    cli::main()
}
