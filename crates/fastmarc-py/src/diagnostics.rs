//! What lenient parsing read past, reported as pymarc 5.4.0 reports it while it decodes a
//! record: indicator problems as warnings on the `pymarc` logger, a non-ASCII subfield code
//! as a `BadSubfieldCodeWarning` through `warnings`, an unmapped MARC-8 character as a line
//! on `sys.stderr` (unless `hide_utf8_warnings`). The parser collects them without the GIL
//! (`fastmarc::Diagnostic`); they are reported here, with it, when the record is handed to
//! Python, so programs that capture or silence pymarc's output see the same.

use crate::pyobjects::exception_class;
use fastmarc::Diagnostic;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

/// Report `diagnostics` in order. An error (a warning filter set to "error") is the record's
/// error, as the same warning raised inside pymarc's `decode_marc` is.
pub fn report(
    py: Python<'_>,
    diagnostics: &[Diagnostic],
    hide_utf8_warnings: bool,
) -> PyResult<()> {
    for diagnostic in diagnostics {
        match diagnostic {
            Diagnostic::MissingIndicators(field) => log(py, "missing indicators: %s", field)?,
            Diagnostic::OneIndicator(field) => log(py, "only 1 indicator found: %s", field)?,
            Diagnostic::ExtraIndicators(field) => {
                log(py, "more than 2 indicators found: %s", field)?
            }
            Diagnostic::BadSubfieldCode(subfield) => {
                let warning = exception_class(py, "BadSubfieldCodeWarning")?
                    .call1((PyBytes::new(py, subfield),))?;
                py.import(intern!(py, "warnings"))?
                    .call_method1(intern!(py, "warn"), (warning,))?;
            }
            Diagnostic::Marc8Unmapped(warning) => marc8_warning(py, warning, hide_utf8_warnings)?,
            _ => {}
        }
    }
    Ok(())
}

/// `logging.getLogger("pymarc").warning(message, bytes)`, lazily formatted as pymarc's is.
fn log(py: Python<'_>, message: &str, bytes: &[u8]) -> PyResult<()> {
    py.import(intern!(py, "logging"))?
        .call_method1(intern!(py, "getLogger"), ("pymarc",))?
        .call_method1(intern!(py, "warning"), (message, PyBytes::new(py, bytes)))?;
    Ok(())
}

/// What pymarc's MARC-8 decoder writes to stderr for `warning`: the line about a cut-short
/// EACC character even when `quiet`, the unmapped character unless `quiet`.
pub fn marc8_warning(
    py: Python<'_>,
    warning: &fastmarc::marc8::Marc8Warning,
    quiet: bool,
) -> PyResult<()> {
    if let Some(line) = warning.overrun() {
        stderr_line(py, &line)?;
    }
    if !quiet {
        stderr_line(py, &warning.to_string())?;
    }
    Ok(())
}

/// One line on Python's `sys.stderr` (where pymarc writes it, so redirecting it works).
pub fn stderr_line(py: Python<'_>, line: &str) -> PyResult<()> {
    py.import(intern!(py, "sys"))?
        .getattr(intern!(py, "stderr"))?
        .call_method1(intern!(py, "write"), (format!("{line}\n"),))?;
    Ok(())
}
