//! Who must act on an error. Every library crate's error says which of these it is, and the two
//! edges map them once: the binary to exit codes, the web app to HTTP statuses.

/// Who must act on an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The user's input: a bad argument, an unknown unit or period, a refused request. Fixing the
    /// request fixes it.
    Input,
    /// The catalog's author: a catalog file with a mistake, or one the code cannot use.
    Catalog,
    /// The operator: the disk, the store's server, a store that is busy or corrupt. Retrying later or
    /// repairing the installation fixes it.
    Operator,
    /// A bug in pbgdpl: nothing the user or the operator did explains it.
    Bug,
}

impl Fault {
    /// The exit code of the command line for this fault (`interfaces.md` reserves 1 for "some return
    /// was rejected" and 2 for usage errors).
    pub fn exit_code(self) -> u8 {
        match self {
            Fault::Input => 2,
            Fault::Catalog => 3,
            Fault::Operator => 4,
            Fault::Bug => 70,
        }
    }
}
