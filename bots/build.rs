//! The dialogs folder is built into the binary (`src/shipped.rs`): rebuild when it changes.
fn main() {
    println!("cargo:rerun-if-changed=../dialogs");
}
