//! `--select EXPR`: keep only the records for which every condition holds. A condition is
//! a MARCspec path, alone (the path exists), or with `=`, `!=`, `~` (contains) or `!~` and
//! a value: `008/35-37=fre`, `650$a~Fiction`, `!856`. The parser is the core's
//! (`fastmarc::Spec`), the one Arrow projections use.

use crate::failure::Failure;
use fastmarc::Condition;
use fastmarc::Record;

/// The conditions a record must meet.
#[derive(Debug, Clone, Default)]
pub struct Select(Vec<Condition>);

impl Select {
    /// Parse each `--select` expression; a bad one is a usage error that says where.
    pub fn parse(expressions: &[String]) -> Result<Select, Failure> {
        expressions
            .iter()
            .map(|e| {
                Condition::parse(e).map_err(|err| {
                    Failure::usage(format!(
                        "--select {e:?}: {} (at character {})",
                        err.message(),
                        err.position() + 1
                    ))
                })
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Select)
    }

    /// Whether `rec` meets every condition.
    pub fn keeps(&self, rec: &Record) -> bool {
        self.0.iter().all(|c| c.matches(rec))
    }
}
