"""Python source of the model kernels, generated from the sympy trace.

The traced right-hand side (:func:`hpgsim.physiology.symbolic.trace`) is rewritten in two steps:

1. *Hoisting*: every subexpression that depends on parameters only (reference ratios, rate
   constants ``ln 2 / t_half``, normalisations) becomes a *derived constant* ``q[i]``, computed
   once per subject by ``derived(p, q)`` instead of at every right-hand-side call.
2. *Common-subexpression elimination* (``sympy.cse``) of the right-hand side and observables
   together, and separately of the derived constants.

The result is plain Python on floats and 1-d arrays: ``derived(p, q)``, ``rhs(y, p, q, c,
pump_rate, pump_dose, dy)`` and ``observables(y, p, q, c, pump_rate, pump_dose, out)``, with the
constants ``N_STATES``, ``N_PARAMS``, ``N_DERIVED``, ``N_DRUGS`` and ``N_OBSERVABLES`` (the
interface is written down in ``model_api.pyi``). :mod:`hpgsim.engine.link` compiles it with numba.
Units: ``y`` as ``STATE_NAMES``, ``p`` as the parameter tables, ``c`` as the drug catalog, time in
hours.
"""

from __future__ import annotations

import keyword
from collections.abc import Iterable, Sequence
from typing import Any

from hpgsim.physiology.symbolic import SymbolicModel

_PREFIXES = ("_q", "_x", "_u")  # derived constants, rhs temporaries, derived temporaries


def _param_only(expr: Any, params: frozenset[Any]) -> bool:
    free = expr.free_symbols
    return bool(free) and free <= params


class Hoister:
    """Replace maximal parameter-only subexpressions by symbols ``_q<i>``."""

    def __init__(self, params: Iterable[Any]) -> None:
        import sympy as sp

        self._sp = sp
        self.params = frozenset(params)
        self.symbol_of: dict[Any, Any] = {}
        self.definitions: list[tuple[Any, Any]] = []
        self._done: dict[Any, Any] = {}

    def _name(self, expr: Any) -> Any:
        if expr not in self.symbol_of:
            sym = self._sp.Symbol(f"_q{len(self.definitions)}")
            self.symbol_of[expr] = sym
            self.definitions.append((sym, expr))
        return self.symbol_of[expr]

    def __call__(self, expr: Any) -> Any:
        if expr in self._done:
            return self._done[expr]
        sp = self._sp
        out: Any
        if expr.is_Atom:
            out = expr
        elif isinstance(expr, sp.logic.boolalg.Boolean):  # conditions stay where they are
            out = expr.func(*(self(a) for a in expr.args))
        elif _param_only(expr, self.params):
            out = self._name(expr)
        elif isinstance(expr, sp.Add | sp.Mul):
            # group the parameter-only terms (factors) of a sum (product) into one constant
            fixed = [a for a in expr.args if a.is_Number or _param_only(a, self.params)]
            rest = [self(a) for a in expr.args if not (a.is_Number or _param_only(a, self.params))]
            symbolic = [a for a in fixed if not a.is_Number]
            if symbolic and (len(fixed) > 1 or not symbolic[0].is_Atom):
                out = expr.func(self._name(expr.func(*fixed)), *rest)
            else:
                out = expr.func(*fixed, *rest)
        else:
            out = expr.func(*(self(a) for a in expr.args))
        self._done[expr] = out
        return out


def _printer() -> Any:
    from sympy.printing.pycode import PythonCodePrinter

    class Printer(PythonCodePrinter):  # type: ignore[misc]  # sympy is untyped
        """Exact float literals; powers with a parameter exponent through ``fpow``."""

        def _print_Float(self, expr: Any) -> str:
            return repr(float(expr))

        def _print_Rational(self, expr: Any) -> str:
            return repr(float(expr))

        def _print_Pow(self, expr: Any, rational: bool = False) -> str:
            if expr.exp.is_Number:
                return str(super()._print_Pow(expr, rational))
            return f"fpow({self._print(expr.base)}, {self._print(expr.exp)})"

    return Printer({"standard": "python3"})


# Hill exponents are parameters, so powers cannot be specialised when the code is generated;
# most hold small integers or see a zero base (an absent drug), where pow() is wasted work.
FPOW = '''
def fpow(x, n):
    """x**n, by multiplication when n is a small whole number, 0 for a zero base."""
    if x == 0.0 and n > 0.0:
        return 0.0
    if 0.0 < n <= 8.0 and n == int(n):
        r = x
        for _ in range(int(n) - 1):
            r *= x
        return r
    return x**n
'''


def _check_names(names: Iterable[str]) -> None:
    for n in names:
        if not n.isidentifier() or keyword.iskeyword(n) or n.startswith(_PREFIXES):
            raise ValueError(f"model name {n!r} cannot be a Python identifier in generated code; "
                             "rename it (no keywords, no leading _q/_x/_u)")


def _unpack(array: str, names: Sequence[str], used: set[str]) -> list[str]:
    return [f"    {n} = {array}[{i}]" for i, n in enumerate(names) if n in used]


def _body(assignments: Sequence[tuple[Any, Any]], outputs: Sequence[tuple[str, Any]],
          printer: Any) -> list[str]:
    lines = [f"    {printer.doprint(s)} = {printer.doprint(e)}" for s, e in assignments]
    lines += [f"    {target} = {printer.doprint(e)}" for target, e in outputs]
    return lines


def _used(exprs: Iterable[Any]) -> set[str]:
    out: set[str] = set()
    for e in exprs:
        out |= {s.name for s in e.free_symbols}
    return out


def model_source(model: SymbolicModel) -> str:
    """Generated Python source of ``derived``, ``rhs``, ``observables`` and the N_* constants."""
    import sympy as sp

    state_names = [s.name for s in model.states]
    drug_names = [s.name for s in model.drugs]
    _check_names([*model.parameter_names, *state_names, *drug_names])
    hoist = Hoister(model.params)
    rhs = [hoist(e) for e in model.rhs]
    obs_names = list(model.observables)
    obs = [hoist(model.observables[k]) for k in obs_names]
    defs = hoist.definitions
    derived_tmp, derived_out = sp.cse([e for _, e in defs], symbols=sp.numbered_symbols("_u"),
                                      optimizations=None)
    printer = _printer()
    derived_used = _used([e for _, e in derived_tmp] + list(derived_out))
    lines = [
        f"N_STATES = {len(state_names)}",
        f"N_PARAMS = {len(model.parameter_names)}",
        f"N_DERIVED = {len(defs)}",
        f"N_DRUGS = {len(drug_names)}",
        f"N_OBSERVABLES = {len(obs_names)}",
        f"STATE_NAMES = {tuple(state_names)!r}",
        f"PARAMETER_NAMES = {tuple(model.parameter_names)!r}",
        f"OBSERVABLE_NAMES = {tuple(obs_names)!r}",
        "",
        "",
        FPOW.strip(),
        "",
        "",
        "def derived(p, q):",
        '    """Parameter-only subexpressions of the model, once per subject."""',
        *_unpack("p", model.parameter_names, derived_used),
        *_body(derived_tmp, [(f"q[{i}]", e) for i, e in enumerate(derived_out)], printer),
    ]
    q_names = [s.name for s, _ in defs]
    functions = (
        ("rhs", "dy", rhs,
         "dy/dt (per hour) at state y; c: drug concentrations; pump: pulses/h, ug/pulse."),
        ("observables", "out", obs,
         "Every observable in its canonical unit, in OBSERVABLE_NAMES order."),
    )
    for name, target, exprs, doc in functions:
        tmp, reduced = sp.cse(exprs, symbols=sp.numbered_symbols("_x"), optimizations=None)
        used = _used([e for _, e in tmp] + list(reduced))
        lines += [
            "",
            "",
            f"def {name}(y, p, q, c, pump_rate, pump_dose, {target}):",
            f'    """{doc}"""',
            *_unpack("y", state_names, used),
            *_unpack("p", model.parameter_names, used),
            *_unpack("q", q_names, used),
            *_unpack("c", drug_names, used),
            *_body(tmp, [(f"{target}[{i}]", e) for i, e in enumerate(reduced)], printer),
        ]
    return "\n".join(lines) + "\n"
