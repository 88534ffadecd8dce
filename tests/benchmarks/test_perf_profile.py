"""benchmarks/perf_profile.py: perf's samples given to the compiled functions that spent them.

The parsing and the attribution are checked on a perf script text written as ``perf script -F
pid,ip,sym,dso`` prints it; running perf itself is left to the person profiling (it needs the
permission to sample), so no test here needs it.
"""

from __future__ import annotations

from benchmarks import perf_profile

LIBPY = "/usr/lib/libpython3.11.so.1.0"
COMPILED = "/x/dmsniff__mypyc.cpython-311-x86_64-linux-gnu.so"
LXML = "/x/lxml/etree.cpython-311-x86_64-linux-gnu.so"

SCRIPT = f"""
\t  1a2b unicodekeys_lookup_unicode ({LIBPY})
\t  1a2c _Py_dict_lookup ({LIBPY})
\t  2b3c CPyDef_sessions___omadm___DmSessions____summarise ({COMPILED})
\t  2b3d CPyDef_sessions___omadm___DmSessions____message ({COMPILED})
\t  2b3e CPyDef_packet___Dissector___run ({COMPILED})

\t  3c4d xmlParseElement (/usr/lib/x86_64-linux-gnu/libxml2.so.2.9.14)
\t  3c4e __pyx_f_4lxml_5etree__parseDoc ({LXML})
\t  3c4f CPyDef_cwmp____xml___parse_xml ({COMPILED})
\t  3c50 CPyDef_packet___Dissector___run ({COMPILED})

\t  4d5e _PyEval_EvalFrameDefault ({LIBPY})
\t  4d5f Py_RunMain ({LIBPY})

\t  5e6f CPyPy_tcp___TcpReassembler___segment ({COMPILED})
\t  5e70 CPyDef_packet___Dissector___run ({COMPILED})
"""


def test_demangle() -> None:
    assert perf_profile.demangle("CPyDef_sessions___omadm___DmSessions____summarise") == (
        "sessions.omadm.DmSessions._summarise"
    )
    assert perf_profile.demangle("CPyDef__fast____tree") == "_fast._tree"
    assert perf_profile.demangle("CPyPy_tcp___TcpReassembler___segment") == "tcp.TcpReassembler.segment"
    assert perf_profile.demangle("_PyEval_EvalFrameDefault") is None


def test_parse_script_splits_samples_and_reads_symbol_and_object() -> None:
    samples = list(perf_profile.parse_script(SCRIPT.splitlines(keepends=True)))
    assert len(samples) == 4
    assert samples[0][0] == ("unicodekeys_lookup_unicode", LIBPY)
    assert samples[1][0] == ("xmlParseElement", "/usr/lib/x86_64-linux-gnu/libxml2.so.2.9.14")
    assert [len(s) for s in samples] == [5, 4, 2, 2]


def test_attribution_self_and_total() -> None:
    profile = perf_profile.attribute(perf_profile.parse_script(SCRIPT.splitlines()))
    assert profile.samples == 4
    # The runtime a compiled function calls is its own cost; a library is named as a whole.
    assert profile.self_ == {
        "sessions.omadm.DmSessions._summarise": 1,
        "libxml2": 1,
        "(python: _PyEval_EvalFrameDefault)": 1,
        "tcp.TcpReassembler.segment": 1,
    }
    assert profile.total["packet.Dissector.run"] == 3
    assert profile.total["sessions.omadm.DmSessions._message"] == 1
    assert profile.total["lxml"] == 1 and profile.total["cwmp._xml.parse_xml"] == 1
    text = perf_profile.render(profile, top=10)
    assert "4 samples" in text
    assert "   25.0     75.0  packet.Dissector.run" not in text  # self 0: listed by total only
    assert "    75.0  packet.Dissector.run" in text


def test_samples_split_between_the_main_process_and_the_workers() -> None:
    # Each sample opens with its pid (perf pads it to the right: " 5210 "), its frames indented by
    # a tab; the first pid seen is the process perf started.
    text = "".join(
        f"{pid:>6} \n\t  1a2b {sym} ({COMPILED})\n\n"
        for pid, sym in [(100, "CPyDef_sessions___cwmp___CwmpSessions___transaction"),
                         (101, "CPyDef_tcp___TcpReassembler___segment"),
                         (100, "CPyDef_verify___verifier___Verifier___transaction"),
                         (102, "CPyDef_tcp___TcpReassembler___segment")]
    )
    def names(process: str) -> list[str | None]:
        return [perf_profile.demangle(s[0][0]) for s in perf_profile.parse_script(text.splitlines(), process)]
    assert names("main") == ["sessions.cwmp.CwmpSessions.transaction", "verify.verifier.Verifier.transaction"]
    assert names("workers") == ["tcp.TcpReassembler.segment"] * 2
    assert len(names("all")) == 4
