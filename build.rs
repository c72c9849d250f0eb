// `sqlx::migrate!` embeds the migrations: a new file in the folder must rebuild the binary.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
