//! The command line: which shapes, how big, how many rows per transaction,
//! where the databases go.

use std::path::PathBuf;

use cascadia::Budget;

use super::Failure;
use super::shapes::ShapeName;

/// What to run.
#[derive(Debug, Clone)]
pub struct Config {
    /// The shapes to run, in order (`--shape`, default `fanout`).
    pub shapes: Vec<ShapeName>,
    /// Multiplies the data size (`--scale`, default 1).
    pub scale: f64,
    /// Rows written per transaction: cascadia's budget and `batch_rows`,
    /// and the ceiling loop's transaction size (`--batch`, default 1,000).
    pub batch: u64,
    /// cascadia's byte budget per transaction (`--bytes <n>|none`; default
    /// the library's, [`Budget::DEFAULT`]: 4 MiB). `None`: rows only, the
    /// one limit the ceiling loop has.
    pub bytes: Option<u64>,
    /// Where the databases go (`--dir`; `None`: a fresh temp directory,
    /// removed afterwards).
    pub dir: Option<PathBuf>,
    /// The engine (`--backend sqlite|postgres`, default SQLite).
    pub backend: Backend,
}

/// The engine the benchmark runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Backend {
    /// File-backed SQLite databases: every shape.
    #[default]
    Sqlite,
    /// The PostgreSQL server of `CASCADIA_POSTGRES_URL`: `fanout`, and the
    /// worker scaling.
    Postgres,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            shapes: vec![ShapeName::Fanout],
            scale: 1.0,
            batch: 1_000,
            bytes: Budget::DEFAULT.bytes_written,
            dir: None,
            backend: Backend::Sqlite,
        }
    }
}

impl Config {
    /// cascadia's budget: `batch` rows and `bytes` bytes written per
    /// transaction, the library's default rows read.
    pub fn budget(&self) -> Budget {
        let mut budget = Budget::DEFAULT.rows_written(self.batch);
        budget.bytes_written = self.bytes;
        budget
    }
}

/// What the options are.
fn usage() -> String {
    let shapes: Vec<&str> = ShapeName::ALL.iter().map(|shape| shape.as_str()).collect();
    format!(
        "options: --shape {}|all, --scale <f>, --batch <rows>, --bytes <n>|none, --dir <path>, --backend sqlite|postgres",
        shapes.join("|")
    )
}

/// Reads the options (the program's arguments, without its name).
pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Config, Failure> {
    let mut config = Config::default();
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--shape" => config.shapes = shapes(&value()?)?,
            "--scale" => config.scale = value()?.parse()?,
            "--batch" => config.batch = value()?.parse()?,
            "--bytes" => {
                config.bytes = match value()?.as_str() {
                    "none" => None,
                    bytes => Some(bytes.parse()?),
                }
            }
            "--dir" => config.dir = Some(PathBuf::from(value()?)),
            "--backend" => {
                config.backend = match value()?.as_str() {
                    "sqlite" => Backend::Sqlite,
                    "postgres" => Backend::Postgres,
                    other => return Err(format!("unknown backend {other}; {}", usage()).into()),
                }
            }
            "-h" | "--help" => return Err(usage().into()),
            other => return Err(format!("unknown option {other}; {}", usage()).into()),
        }
    }
    if !(config.scale > 0.0 && config.scale.is_finite()) {
        return Err(format!("--scale must be a positive number, not {}", config.scale).into());
    }
    if config.backend == Backend::Postgres && config.shapes != [ShapeName::Fanout] {
        return Err("--backend postgres runs the fanout shape only".into());
    }
    Ok(config)
}

/// `all`, or one shape's name.
fn shapes(name: &str) -> Result<Vec<ShapeName>, Failure> {
    if name == "all" {
        return Ok(ShapeName::ALL.to_vec());
    }
    ShapeName::ALL
        .into_iter()
        .find(|shape| shape.as_str() == name)
        .map(|shape| vec![shape])
        .ok_or_else(|| format!("unknown shape {name}; {}", usage()).into())
}
