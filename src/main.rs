fn main() {
    match clouddb_job_operator::cli::crd::crd_yaml() {
        Ok(y) => print!("{y}"),
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1)
        }
    }
}
