//! `fastmarc completions` and `fastmarc manpage`: generated from the command's own
//! definitions, so they know every subcommand and option.

use std::process::{Command, Output};
use tempfile::TempDir;

const BIN: &str = env!("CARGO_BIN_EXE_fastmarc");
const SUBCOMMANDS: &[&str] = &[
    "count", "stats", "convert", "dump", "validate", "split", "cat",
];

fn fastmarc(args: &[&str]) -> Output {
    Command::new(BIN).args(args).output().expect("run fastmarc")
}

fn stdout_of(args: &[&str]) -> String {
    let out = fastmarc(args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "fastmarc {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

/// What bash offers after the words typed so far (the last one being completed), from the
/// generated script sourced into a real bash.
fn bash_completes(words: &[&str]) -> Vec<String> {
    let script = stdout_of(&["completions", "bash"]);
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("fastmarc.bash");
    std::fs::write(&path, script).unwrap();
    let words_array = words
        .iter()
        .map(|w| format!("'{w}'"))
        .collect::<Vec<_>>()
        .join(" ");
    let program = format!(
        "source '{}'\nCOMP_WORDS=({words_array})\nCOMP_CWORD={}\nCOMP_LINE='{}'\nCOMP_POINT=${{#COMP_LINE}}\n_fastmarc fastmarc '{}' '{}'\nprintf '%s\\n' \"${{COMPREPLY[@]}}\"",
        path.display(),
        words.len() - 1,
        words.join(" "),
        words[words.len() - 1],
        words[words.len() - 2],
    );
    let out = Command::new("bash")
        .arg("-c")
        .arg(program)
        .output()
        .expect("run bash");
    assert!(
        out.status.success(),
        "bash: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn bash_completes_subcommands_and_their_options() {
    let offered = bash_completes(&["fastmarc", "con"]);
    assert_eq!(offered, ["convert"]);
    let offered = bash_completes(&["fastmarc", ""]);
    for sub in SUBCOMMANDS.iter().chain(&["completions", "manpage"]) {
        assert!(offered.iter().any(|o| o == sub), "{sub} not in {offered:?}");
    }
    let mut offered = bash_completes(&["fastmarc", "convert", "--t"]);
    offered.sort();
    assert_eq!(offered, ["--threads", "--to", "--to-encoding"]);
}

#[test]
fn zsh_and_fish_scripts_name_every_subcommand() {
    let zsh = stdout_of(&["completions", "zsh"]);
    assert!(zsh.starts_with("#compdef fastmarc"), "{zsh:.80}");
    let fish = stdout_of(&["completions", "fish"]);
    assert!(fish.contains("complete -c fastmarc"), "{fish:.200}");
    for sub in SUBCOMMANDS {
        assert!(zsh.contains(&format!("'{sub}:")), "zsh script lacks {sub}");
        assert!(
            fish.contains(&format!("-a \"{sub}\"")),
            "fish script lacks {sub}"
        );
    }
}

#[test]
fn an_unknown_shell_is_a_usage_error() {
    let out = fastmarc(&["completions", "tcsh"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("tcsh"));
}

#[test]
fn manpage_on_stdout_describes_the_command_and_its_version() {
    let page = stdout_of(&["manpage"]);
    let version = env!("CARGO_PKG_VERSION");
    assert!(
        page.contains(&format!(".TH fastmarc 1  \"fastmarc {version}\"")),
        "{page:.300}"
    );
    assert!(page.contains(".SH SYNOPSIS"));
    for sub in SUBCOMMANDS {
        assert!(
            page.contains(&format!("fastmarc\\-{sub}(1)")),
            "page lacks {sub}"
        );
    }
}

#[test]
fn manpage_dir_writes_one_page_per_subcommand() {
    let dir = TempDir::new().unwrap();
    let target = dir.path().join("man1");
    stdout_of(&["manpage", "--dir", target.to_str().unwrap()]);
    let main = std::fs::read_to_string(target.join("fastmarc.1")).unwrap();
    assert!(main.contains(".TH fastmarc 1"));
    for sub in SUBCOMMANDS {
        let page = std::fs::read_to_string(target.join(format!("fastmarc-{sub}.1")))
            .unwrap_or_else(|e| panic!("fastmarc-{sub}.1: {e}"));
        assert!(
            page.contains(&format!(".TH fastmarc-{sub} 1")),
            "{page:.200}"
        );
        assert!(page.contains(".SH OPTIONS"));
    }
    // The convert page documents convert's own options, from the same definitions as --help.
    let convert = std::fs::read_to_string(target.join("fastmarc-convert.1")).unwrap();
    assert!(convert.contains("\\-\\-to"));
}

#[test]
fn version_is_the_crate_version() {
    let out = stdout_of(&["--version"]);
    assert_eq!(
        out.trim(),
        format!("fastmarc {}", env!("CARGO_PKG_VERSION"))
    );
}
