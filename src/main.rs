//! The `ticketd` binary: all logic lives in the library (`ticketd::cli`).

fn main() {
    std::process::exit(ticketd::cli::main());
}
