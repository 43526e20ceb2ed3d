#!/usr/bin/env bash
# Runs the Rust test binaries of the core crate and the Python reader/writer tests under
# valgrind's memcheck, and prints each run's error and leak summary. Slow (tens of
# minutes on 2 cores): not part of scripts/test.sh. See docs/MEMORY_SAFETY.md.
#
#   bash scripts/valgrind.sh            # both
#   bash scripts/valgrind.sh rust       # the Rust test binaries only
#   bash scripts/valgrind.sh python     # the Python tests only (fastmarc must be installed)
#
# Logs go to target/valgrind/. Exit status is non-zero if any run reported an error
# (invalid read/write, use of uninitialised memory, or a definite leak).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PYTHON="${PYTHON:-python3}"
what="${1:-all}"
logs=target/valgrind
mkdir -p "$logs"
export PYMARC_TEST_DIR="${PYMARC_TEST_DIR:-$PWD/cache/pymarc-5.4.0/test}"
# CPython 3.11's Misc/valgrind-python.supp, as Debian's python3 package ships it.
python_supp=/usr/lib/valgrind/python3.supp
memcheck=(valgrind --tool=memcheck --leak-check=full --show-leak-kinds=definite
          --errors-for-leak-kinds=definite --error-exitcode=99 --num-callers=30)
failed=0

summarise() {
    local log="$1" status="$2"
    printf '%-40s exit %-3s %s | %s\n' "$(basename "$log" .log)" "$status" \
        "$(grep -m1 'ERROR SUMMARY' "$log" | sed 's/^==[0-9]*== //')" \
        "$(grep -m1 'definitely lost' "$log" | sed 's/^==[0-9]*== *//' || echo 'definitely lost: none')"
}

if [[ "$what" == all || "$what" == rust ]]; then
    # Test binaries of the core crate (unit tests and every tests/*.rs), debug build.
    mapfile -t binaries < <(cargo test -p fastmarc --no-run --message-format=json 2>/dev/null |
        "$PYTHON" -c '
import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["profile"]["test"]:
        print(m["target"]["name"] + " " + m["executable"])')
    for entry in "${binaries[@]}"; do
        name="${entry%% *}" binary="${entry#* }"
        log="$logs/rust-$name.log"
        status=0
        "${memcheck[@]}" --log-file="$log" "$binary" --test-threads=2 >"$log.out" 2>&1 || status=$?
        summarise "$log" "$status"
        # A failing test exits 101; 99 is valgrind's own error exit.
        [[ $status -ne 99 ]] || failed=1
    done
fi

if [[ "$what" == all || "$what" == python ]]; then
    # PYTHONMALLOC=malloc: every Python allocation goes through malloc, so memcheck sees
    # them and the obmalloc suppressions are not needed.
    python_tests=(
        tests/python/test_native_behaviour.py
        tests/python/test_faults.py
        tests/python/test_roundtrip_properties.py
        "tests/python/test_compat_modules.py::test_marc_writer_output"
        "tests/python/test_compat_modules.py::test_xml_writer_output"
        "tests/python/test_compat_modules.py::test_json_writer_output"
        "tests/python/test_compat_modules.py::test_text_writer_output_and_closing"
        "tests/python/test_hostile_inputs.py::test_hostile_iso2709_reads_as_in_pymarc"
        "tests/python/test_hostile_inputs.py::test_random_bytes_never_crash"
    )
    # The extension built without mimalloc (memcheck cannot see inside its heap), put
    # ahead of the installed fastmarc on PYTHONPATH.
    rm -rf "$logs/wheel" "$logs/site"
    "$PYTHON" -m maturin build --release --no-default-features --features pyo3/extension-module \
        --out "$logs/wheel" >"$logs/build.log" 2>&1
    "$PYTHON" -m pip install --quiet --disable-pip-version-check --root-user-action=ignore \
        --no-deps --target "$logs/site" "$logs"/wheel/*.whl
    export PYTHONPATH="$PWD/$logs/site${PYTHONPATH:+:$PYTHONPATH}"
    log="$logs/python.log"
    status=0
    # The interpreter itself: `python3` may be a shell-script shim (pyenv), which valgrind
    # would check instead of Python.
    interpreter="$("$PYTHON" -c 'import sys; print(sys.executable)')"
    PYTHONMALLOC=malloc "${memcheck[@]}" --suppressions="$python_supp" --log-file="$log" \
        "$interpreter" -m pytest -q -p no:cacheprovider "${python_tests[@]}" -k "not permissive-2threads" \
        >"$log.out" 2>&1 || status=$?
    tail -1 "$log.out"
    summarise "$log" "$status"
    # The interpreter reports errors of its own from start-up on (before fastmarc is even
    # imported); those whose stack passes through fastmarc's extension are ours.
    ours="$(awk '/^==[0-9]+== [A-Z]/{if (block ~ /_native\.cpython|fastmarc::|fastmarc_py/) n++; block=""} {block = block $0}
                 END{if (block ~ /_native\.cpython|fastmarc::|fastmarc_py/) n++; print n+0}' "$log")"
    echo "error reports whose stack passes through fastmarc._native: $ours"
    [[ "$ours" -eq 0 ]] || failed=1
    # pytest's own failures (exit 1) are not memory errors; valgrind's 99 is checked above,
    # since CPython's own reports (see docs/MEMORY_SAFETY.md) set it too.
fi

exit $failed
