"""Linear pharmacokinetics, evaluated exactly by modal superposition.

Every product (drug x route x formulation) is a linear compartment system ``dx/dt = A x`` whose
matrix is diagonalised once (``A = V diag(lam) V^-1``). A dose ``b`` adds ``V^-1 b`` to the modal
amplitudes ``z``; between doses ``z_j(t) = z_j(t0) exp(lam_j (t - t0))``; concentrations are
``W z``. This is exact (no ODE error), costs O(modes) per evaluation, and keeps minute-scale
peptide and gut compartments out of the physiology ODE (see ``../shared/domain/numerics.md``).

The time axis is cut into *segments* at every dose time and every pump start/stop, so the solver
restarts at each jump in drug input and the drug state within a segment is a sum of exponentials.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

import numpy as np
from numpy.typing import NDArray

from hpgsim.drugs.catalog import Catalog, Product, default_catalog

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class ModalProduct:
    """The diagonalised compartment system of one product.

    ``rates``: eigenvalues (1/h, negative); ``dose_modes``: modal amplitude added by one unit of
    dose (mg or IU, before bioavailability is applied: it is included); ``weights``: rows map
    modal amplitudes to the concentration of each species in ``species`` (species' unit).
    ``compartments`` names the compartments, for tests and SBML export.
    """

    species: tuple[str, ...]
    rates: FloatArray
    dose_modes: FloatArray
    weights: FloatArray
    matrix: FloatArray  # A (1/h), for reference solves and export
    dose_vector: FloatArray  # b per unit dose (amount into each compartment, F applied)
    output: FloatArray  # rows: concentration of each species per compartment amount
    compartments: tuple[str, ...]


def build_modal(product: Product, catalog: Catalog) -> ModalProduct:
    """Assemble and diagonalise the compartment system of ``product``."""
    names: list[str] = []
    index: dict[str, int] = {}
    edges: list[tuple[int, int | None, float]] = []  # (from, to or None = eliminated, rate 1/h)
    dose: dict[int, float] = {}

    def add(name: str) -> int:
        if name not in index:
            index[name] = len(names)
            names.append(name)
        return index[name]

    def add_species(sp_name: str) -> int:
        if f"{sp_name}.central" in index:
            return index[f"{sp_name}.central"]
        sp = catalog.species[sp_name]
        c = add(f"{sp_name}.central")
        k_el = math.log(2.0) / sp.half_life.value
        if sp.metabolite is not None and sp.metabolite_fraction is not None:
            m = add_species(sp.metabolite)
            frac = sp.metabolite_fraction.value
            edges.append((c, m, k_el * frac))
            edges.append((c, None, k_el * (1.0 - frac)))
        else:
            edges.append((c, None, k_el))
        if sp.peripheral_volume is not None and sp.intercompartmental_clearance is not None:
            p = add(f"{sp_name}.peripheral")
            q = sp.intercompartmental_clearance.value
            edges.append((c, p, q / sp.volume.value))
            edges.append((p, c, q / sp.peripheral_volume.value))
        return c

    f = product.bioavailability.value
    for i, path in enumerate(product.paths):
        target = add_species(path.species)
        chain = [add(f"path{i}.step{j}") for j in range(len(path.half_lives))]
        for j, comp in enumerate(chain):
            nxt = chain[j + 1] if j + 1 < len(chain) else target
            edges.append((comp, nxt, math.log(2.0) / path.half_lives[j].value))
        entry = chain[0] if chain else target
        dose[entry] = dose.get(entry, 0.0) + f * path.fraction.value

    n = len(names)
    a = np.zeros((n, n))
    for src, dst, k in edges:
        a[src, src] -= k
        if dst is not None:
            a[dst, src] += k
    b = np.zeros(n)
    for comp, amount in dose.items():
        b[comp] = amount
    species = tuple(nm.removesuffix(".central") for nm in names if nm.endswith(".central"))
    out = np.zeros((len(species), n))
    for row, sp_name in enumerate(species):
        sp = catalog.species[sp_name]
        out[row, index[f"{sp_name}.central"]] = sp.conc_per_amount_per_litre / sp.volume.value

    lam, vec = np.linalg.eig(a)
    if np.max(np.abs(lam.imag)) > 0.0 or np.linalg.cond(vec) > 1e10:
        raise ValueError(f"PK system of {product} is not diagonalisable with real rates; "
                         "make its half-lives distinct")
    lam, vec = lam.real, vec.real
    return ModalProduct(
        species=species, rates=lam, dose_modes=np.linalg.solve(vec, b), weights=out @ vec,
        matrix=a, dose_vector=b, output=out, compartments=tuple(names),
    )


@cache
def _modal_cached(drug: str, route: str, formulation: str | None) -> ModalProduct:
    cat = default_catalog()
    return build_modal(cat.drug(drug).product(route, formulation), cat)


def modal_product(drug: str, route: str, formulation: str | None,
                  catalog: Catalog | None = None) -> ModalProduct:
    """The modal system for a product of ``catalog`` (the bundled one is cached).

    ``drug`` may be a catalog name or an alias; ``formulation`` None is the route's default.
    """
    if catalog is None:
        return _modal_cached(drug, route, formulation)
    return build_modal(catalog.drug(drug).product(route, formulation), catalog)


@dataclass(frozen=True)
class Bolus:
    """One administration as the PK layer sees it (time in h, amount in mg or IU)."""

    time: float
    drug: str
    route: str
    formulation: str | None
    amount: float


@dataclass(frozen=True)
class Exposure:
    """Drug concentrations over a simulation, as piecewise sums of exponentials.

    Segment ``s`` covers ``[starts[s], starts[s+1])``; ``amplitudes[s]`` are the modal
    amplitudes at ``starts[s]`` (after that instant's doses). ``pump_rate[s]`` is the mean-field
    input of pulsatile gonadorelin during the segment (pulses/h) and ``pump_dose[s]`` its
    bioavailable amount per pulse (ug).
    """

    species: tuple[str, ...]
    rates: FloatArray  # (modes,)
    weights: FloatArray  # (species, modes)
    starts: FloatArray  # (segments,)
    amplitudes: FloatArray  # (segments, modes)
    pump_rate: FloatArray  # (segments,)
    pump_dose: FloatArray  # (segments,)

    def segment_of(self, t: FloatArray | float) -> NDArray[np.intp]:
        """Index of the segment holding each time (times before the first start map to 0)."""
        idx = np.searchsorted(self.starts, np.asarray(t, dtype=float), side="right") - 1
        return np.clip(idx, 0, len(self.starts) - 1)

    def concentrations(self, t: FloatArray | Sequence[float] | float) -> FloatArray:
        """Concentrations of every species at times ``t`` (h): shape (species, len(t)).

        Exact (sum of exponentials). Times before the first segment (before time 0) give 0;
        times after the span continue the last segment (no later doses).
        """
        t = np.atleast_1d(np.asarray(t, dtype=float))
        seg = self.segment_of(t)
        dt = np.maximum(t - self.starts[seg], 0.0)[:, None]
        modal = self.amplitudes[seg] * np.exp(self.rates[None, :] * dt)
        modal[t < self.starts[0]] = 0.0
        return np.asarray(self.weights @ modal.T)

    def index(self, species: str) -> int | None:
        """Row of ``species`` in the concentration output, or None if no drug delivers it."""
        return self.species.index(species) if species in self.species else None


@dataclass(frozen=True)
class PumpTrain:
    """Pulsatile delivery (a GnRH pump) treated in the mean field: ``amount`` every ``interval``."""

    start: float
    end: float
    interval: float
    drug: str
    route: str
    amount: float  # mg per pulse


def build_exposure(boluses: Sequence[Bolus], pumps: Sequence[PumpTrain], t_end: float,
                   catalog: Catalog | None = None) -> Exposure:
    """Superpose all doses into one piecewise-exponential exposure over ``[0, t_end]``.

    Segments start at 0 and at every dose time and pump start/stop inside ``(0, t_end)``.
    A dose before time 0 is carried exactly to time 0 (its decay until then is applied); a
    dose at or after ``t_end`` does not act within the span and is left out. Overlapping pumps
    add their pulse rates; ``pump_dose`` is then the rate-weighted mean amount per pulse, so
    that ``pump_rate * pump_dose`` is the total bioavailable input rate.
    """
    boluses = [b for b in boluses if b.time < t_end]
    products = sorted({(b.drug, b.route, b.formulation) for b in boluses},
                      key=lambda k: (k[0], k[1], k[2] or ""))
    modal = [modal_product(*k, catalog=catalog) for k in products]
    species = tuple(sorted({s for m in modal for s in m.species}))
    offsets = np.cumsum([0] + [len(m.rates) for m in modal])
    n_modes = int(offsets[-1])
    rates = np.concatenate([m.rates for m in modal]) if modal else np.zeros(0)
    weights = np.zeros((len(species), n_modes))
    for m, off in zip(modal, offsets[:-1], strict=True):
        for row, sp in enumerate(m.species):
            weights[species.index(sp), off:off + len(m.rates)] += m.weights[row]

    cuts = {0.0, *(b.time for b in boluses if b.time >= 0.0)}
    for p in pumps:
        cuts.update((max(p.start, 0.0), max(p.end, 0.0)))
    starts = np.array(sorted(c for c in cuts if c < t_end) or [0.0])
    kick = np.zeros((len(starts), n_modes))
    for b in boluses:
        i = products.index((b.drug, b.route, b.formulation))
        amount = b.amount * modal[i].dose_modes
        if b.time < 0.0:  # decayed exactly to time 0, the first segment start
            amount = amount * np.exp(modal[i].rates * (0.0 - b.time))
        s = max(int(np.searchsorted(starts, b.time, side="right")) - 1, 0)
        kick[s, offsets[i]:offsets[i + 1]] += amount
    amplitudes = np.zeros_like(kick)
    for s in range(len(starts)):
        carried = amplitudes[s - 1] * np.exp(rates * (starts[s] - starts[s - 1])) if s else 0.0
        amplitudes[s] = carried + kick[s]

    cat = catalog or default_catalog()
    pump_rate = np.zeros(len(starts))
    pump_input = np.zeros(len(starts))  # ug/h
    for p in pumps:
        on = (starts >= p.start) & (starts < p.end)
        f = cat.drug(p.drug).product(p.route).bioavailability.value
        pump_rate[on] += 1.0 / p.interval
        pump_input[on] += p.amount * 1e3 * f / p.interval
    pump_dose = np.divide(pump_input, pump_rate, out=np.zeros_like(pump_input),
                          where=pump_rate > 0.0)  # ug per pulse
    return Exposure(species, rates, weights, starts, amplitudes, pump_rate, pump_dose)
