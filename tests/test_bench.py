"""``anpr-edge bench`` says which CPU its numbers come from (the end-to-end bench run is in test_motion)."""

from __future__ import annotations

from anpr_edge.bench import cpu_description

ZEN4 = """processor\t: 0
vendor_id\t: AuthenticAMD
model name\t: AMD EPYC
flags\t\t: fpu sse avx2 avx512f avx512_bf16 avx512_vnni sha_ni

processor\t: 1
model name\t: AMD EPYC
flags\t\t: fpu sse avx2 avx512f avx512_bf16 avx512_vnni sha_ni
"""


def test_cpu_description_names_the_model_cpus_and_the_instruction_sets_that_matter() -> None:
    assert cpu_description(ZEN4) == "AMD EPYC, 2 logical CPUs, avx2 avx512f avx512_vnni avx512_bf16"
    old = "processor : 0\nmodel name : Old Atom\nflags : fpu sse sse2\n"
    assert cpu_description(old) == "Old Atom, 1 logical CPUs, none of avx2/avx512f"
    assert cpu_description("") == "unknown CPU, ? logical CPUs, none of avx2/avx512f"
