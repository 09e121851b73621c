//! Prints the planning benchmark's generated deployment: `cargo run --example synthetic -- 9950`
//! (the argument is the number of session hosts; addresses in 198.18.0.0/15).
#![expect(clippy::print_stdout, reason = "an example prints its result")]

fn main() {
    let n = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(9950);
    print!("{}", rdsports_core::synthetic::deployment(n));
}
