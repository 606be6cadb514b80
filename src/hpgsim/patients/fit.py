"""Individual fit: a patient's parameters from his labs and dose history.

Model contract: the fitter sees parameter names, their typical values for the patient's
covariates, and :func:`simulate_sets` (parameter sets -> observables on a grid); it knows nothing
else about physiology.

- **Parameters**: log-multipliers ``eta`` on the patient's covariate-adjusted values, one per
  fitted parameter. By default the parameter that most directly sets each observed analyte
  (:data:`ANALYTE_PARAMETER`); any name of the prior table may be asked for.
- **Prior**: the population distribution, ``eta ~ N(0, omega^2)`` with ``omega`` from the cohort
  variability table (:data:`hpgsim.validation.cohort.VARIABILITY`, log-normal with the given CV)
  and, for parameters it lacks, :data:`EXTRA_PRIOR`.
- **Likelihood**: lognormal lab noise, ``log(observed) ~ N(log(predicted), sigma_a^2)`` with
  ``sigma_a`` per analyte (:data:`LAB_NOISE`). A value below the limit of detection (``<L``)
  contributes ``P(observed < L) = Phi((log L - log predicted) / sigma_a)``, one above a reporting
  limit ``P(observed > U)``; a reported 0 counts as below :data:`ZERO_MEANS_BELOW`.
- **MAP**: trust-region least squares on the stacked residuals (a censored term enters as
  ``sqrt(-2 log P)``), with the Jacobian from forward differences computed in one batch run.
- **Posterior**: ``method="laplace"``: Gaussian at the MAP with the Gauss-Newton covariance
  ``(J^T J)^-1``. ``method="sir"`` (default): the Laplace approximation, widened into a
  multivariate t, is the proposal of sampling-importance-resampling on the exact posterior, so
  skewed or censoring-bounded posteriors are not forced into a Gaussian. The effective sample
  size is reported; a low one means more proposals are needed.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import least_squares
from scipy.special import log_ndtr
from scipy.stats import multivariate_t

from hpgsim.errors import InputError
from hpgsim.params import Param, ParamTable
from hpgsim.patients.labs import ZERO_MEANS_BELOW, LabRecord
from hpgsim.patients.records import DoseRecord, PatientInfo, regimen_from_doses
from hpgsim.physiology.covariates import subject_parameters
from hpgsim.regimen.model import Regimen
from hpgsim.simulation import SimulationOptions
from hpgsim.subjects import Subject
from hpgsim.units import ANALYTES
from hpgsim.validation.cohort import VARIABILITY

FloatArray = NDArray[np.float64]

EXTRA_PRIOR = ParamTable("Individual-fit priors for parameters without a cohort CV", [
    Param("aromatase_scale", 0.36, "CV", "peripheral aromatisation (E2 per unit T)",
          "[I] E2 laboratory interval 10-40 pg/mL read as a 95% range: log-SD 0.35"),
    Param("lh_scale", 0.50, "CV", "LH secretion per unit GnRH signal",
          "[I] LH laboratory interval 1.5-9.3 IU/L read as a 95% range: log-SD 0.47"),
    Param("fsh_scale", 0.75, "CV", "FSH secretion per unit GnRH signal",
          "[I] FSH laboratory interval 1.4-18.1 IU/L read as a 95% range: log-SD 0.65"),
])

LAB_NOISE = ParamTable("Lab noise: one sample against the model's course (log-SD)", [
    Param("total_testosterone", 0.15, "log-SD", "total T",
          "[I] immunoassay/LC-MS imprecision ~5-10% plus day-to-day and diurnal variation "
          "of morning samples"),
    Param("free_testosterone", 0.20, "log-SD", "free T", "[I] T's variation plus SHBG's"),
    Param("lh", 0.30, "log-SD", "LH", "[I] one sample of a pulsatile hormone"),
    Param("fsh", 0.15, "log-SD", "FSH", "[I] FSH pulses are damped by its long half-life"),
    Param("estradiol", 0.20, "log-SD", "E2", "[I] immunoassay imprecision at low male levels"),
    Param("shbg", 0.10, "log-SD", "SHBG", "[I] stable protein, assay imprecision ~5-8%"),
    Param("inhibin_b", 0.15, "log-SD", "inhibin B", "[I]"),
    Param("sperm_concentration", 0.45, "log-SD", "sperm concentration",
          "[I] repeated semen samples of one man differ by 30-50% (hence WHO's advice to "
          "repeat an abnormal analysis)"),
    Param("total_sperm_count", 0.50, "log-SD", "total sperm count", "[I] adds semen volume"),
    Param("testis_volume", 0.15, "log-SD", "testis volume", "[I] orchidometer steps"),
    Param("intratesticular_testosterone", 0.30, "log-SD", "ITT", "[I] aspiration samples"),
])

ANALYTE_PARAMETER = {  # default: the parameter that most directly sets each analyte
    "total_testosterone": "leydig_max",
    "lh": "lh_scale",
    "fsh": "fsh_scale",
    "estradiol": "aromatase_scale",
    "shbg": "shbg_scale",
    "free_testosterone": "shbg_scale",
    "sperm_concentration": "sperm_scale",
    "total_sperm_count": "sperm_scale",
    "inhibin_b": "inhb_scale",
}
FIT_STEP_H = 3.0  # output grid of fitting runs; labs are read by linear interpolation
FD_STEP = 1e-3  # forward-difference step in eta (log-multiplier)
FIT_RTOL = 1e-8  # solver tolerance of MAP runs: keeps the FD_STEP differences clean
SIR_RTOL = 1e-6  # solver tolerance of importance-sampling runs (far below the lab noise)
MAX_ETA_SD = 5.0  # eta is bounded to +-5 prior SDs
_TINY = 1e-9  # floor of a prediction before its log (canonical units)


def prior_sd(name: str) -> float:
    """Prior log-SD of a parameter's multiplier (from its CV)."""
    for table in (VARIABILITY, EXTRA_PRIOR):
        if name in table:
            return math.sqrt(math.log1p(table[name].value ** 2))
    known = sorted([*VARIABILITY, *EXTRA_PRIOR])
    raise InputError("parameters", name, "no population prior for this parameter",
                     f"fit some of {', '.join(known)}")


def simulate_sets(subject: Subject, regimen: Regimen, overrides: Sequence[Mapping[str, float]],
                  observables: Sequence[str], step: float, t_end: float,
                  rtol: float = 1e-6) -> tuple[FloatArray, dict[str, FloatArray]]:
    """Observables (canonical units) of ``subject`` on ``regimen`` for each parameter set:
    (times in h, {name: (sets, times)}). The one place fitting and forecasting run the model:
    the compiled batch engine when available, else scipy; sets the compiled solver fails on are
    solved again with scipy, and NaN rows remain only where both fail."""
    from hpgsim.engine import simulate_batch

    specs = [(subject, o) for o in overrides]
    options = SimulationOptions(output_step=step, t_end=t_end, rtol=rtol)
    b = simulate_batch(specs, regimen, options, observables=observables)
    failed = np.flatnonzero(~b.ok)
    if failed.size and b.engine != "scipy":
        again = simulate_batch([specs[i] for i in failed], regimen,
                               replace(options, engine="scipy"), observables=observables)
        for name, rows in b.observables.items():
            rows[failed] = again.observables[name]
    return b.times, b.observables


@dataclass(frozen=True)
class PatientData:
    """A patient's labs and doses on the model's time axis.

    ``t0``: time 0 (the earlier of the first dose and the first lab); ``times`` (h since
    ``t0``), ``analytes``, ``values`` (canonical units) and ``censor`` per observation;
    ``regimen``: the dose history, simulated to the last lab.
    """

    patient: PatientInfo
    subject: Subject
    regimen: Regimen
    t0: datetime
    times: FloatArray
    analytes: tuple[str, ...]
    values: FloatArray
    censor: tuple[str, ...]

    @classmethod
    def from_records(cls, patient: PatientInfo, labs: Sequence[LabRecord],
                     doses: Sequence[DoseRecord]) -> PatientData:
        """Gather the records (labs without a model observable are refused)."""
        if not labs:
            raise InputError("labs", patient.patient_id, "no lab results to fit",
                             "import labs first (hpgsim labs import)")
        t0 = min([r.taken_at for r in labs] + [d.given_at for d in doses])
        times = np.array([(r.taken_at - t0) / timedelta(hours=1) for r in labs])
        values, censor = [], []
        for r in labs:
            if r.value == 0.0:  # a count of zero: below what a lab can see
                values.append(ZERO_MEANS_BELOW[r.analyte])
                censor.append("<")
            else:
                values.append(r.canonical)
                censor.append(r.censor)
        span = float(times.max()) + FIT_STEP_H
        return cls(patient, patient.subject(t0), regimen_from_doses(doses, t0, span), t0,
                   times, tuple(r.analyte for r in labs), np.array(values), tuple(censor))


@dataclass(frozen=True)
class FitResult:
    """An individual fit.

    ``parameters``: fitted names; ``typical``: their values for the patient's covariates;
    ``eta_map``: MAP log-multipliers; ``cov``: Laplace covariance of eta; ``draws``: posterior
    draws of eta (rows, equally weighted); ``ess``: effective sample size of the importance
    weights (``method="sir"``; the number of draws for ``"laplace"``); ``predicted``: MAP
    prediction at each observation (canonical units); ``residuals``: standardised log
    residuals (NaN for censored values); ``n_runs``: model runs used; ``seconds``: wall time.
    """

    patient_id: str
    t0: datetime
    parameters: tuple[str, ...]
    typical: FloatArray
    eta_map: FloatArray
    cov: FloatArray
    draws: FloatArray
    ess: float
    method: str
    times: FloatArray
    analytes: tuple[str, ...]
    observed: FloatArray
    censor: tuple[str, ...]
    predicted: FloatArray
    residuals: FloatArray
    n_runs: int
    seconds: float
    notes: tuple[str, ...] = field(default=())

    def values(self, eta: FloatArray) -> FloatArray:
        """Parameter values for log-multipliers ``eta`` (rows)."""
        return self.typical * np.exp(eta)

    def intervals(self, level: float = 0.9) -> dict[str, tuple[float, float, float]]:
        """Per parameter: (lower, median, upper) value of the central ``level`` interval."""
        q = np.quantile(self.values(self.draws), [(1 - level) / 2, 0.5, (1 + level) / 2], axis=0)
        return {n: (float(q[0, j]), float(q[1, j]), float(q[2, j]))
                for j, n in enumerate(self.parameters)}

    def overrides(self) -> list[dict[str, float]]:
        """One parameter-override mapping per posterior draw."""
        return [dict(zip(self.parameters, map(float, row), strict=True))
                for row in self.values(self.draws)]

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form (for the store); :meth:`from_dict` reads it back."""
        out: dict[str, Any] = {}
        for k, v in self.__dict__.items():
            out[k] = (v.tolist() if isinstance(v, np.ndarray) else
                      v.isoformat() if isinstance(v, datetime) else v)
        out["intervals_90"] = self.intervals()
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FitResult:
        kw = {k: v for k, v in data.items() if k != "intervals_90"}
        for k in ("typical", "eta_map", "cov", "draws", "times", "observed", "predicted",
                  "residuals"):
            kw[k] = np.array(kw[k], dtype=float)
        for k in ("parameters", "analytes", "censor", "notes"):
            kw[k] = tuple(kw[k])
        kw["t0"] = datetime.fromisoformat(kw["t0"])
        return cls(**kw)


class _Problem:
    """Residuals of the posterior for one patient; model runs batched and cached."""

    def __init__(self, data: PatientData, parameters: Sequence[str]) -> None:
        self.data = data
        self.names = tuple(parameters)
        own = subject_parameters(data.subject)
        self.typical = np.array([own[n] for n in self.names])
        self.omega = np.array([prior_sd(n) for n in self.names])
        self.sigma = np.array([LAB_NOISE[a].value for a in data.analytes])
        self.log_obs = np.log(data.values)
        self.kinds = np.array(["=<>".index(c or "=") for c in data.censor])
        self.observables = sorted(set(data.analytes))
        self.cache: dict[bytes, FloatArray] = {}
        self.n_runs = 0

    def predict(self, etas: FloatArray, rtol: float = FIT_RTOL) -> FloatArray:
        """Predictions (sets, observations) in canonical units; cached by eta."""
        todo = [e for e in etas if e.tobytes() not in self.cache]
        if todo:
            sets = [dict(zip(self.names, map(float, self.typical * np.exp(e)), strict=True))
                    for e in todo]
            t, obs = simulate_sets(self.data.subject, self.data.regimen, sets, self.observables,
                                   FIT_STEP_H, self.data.regimen.end, rtol)
            self.n_runs += len(todo)
            for i, e in enumerate(todo):
                self.cache[e.tobytes()] = np.array([
                    np.interp(ti, t, obs[a][i]) for ti, a in zip(self.data.times,
                                                                self.data.analytes, strict=True)])
        return np.array([self.cache[e.tobytes()] for e in etas])

    def residuals(self, etas: FloatArray, rtol: float = FIT_RTOL) -> FloatArray:
        """(sets, observations + parameters): squared and summed, -2 log posterior + const."""
        pred = self.predict(etas, rtol)
        z = (self.log_obs - np.log(np.maximum(pred, _TINY))) / self.sigma
        z = np.where(np.isfinite(z), z, 1e3)  # a failed solve: far from every observation
        r = np.where(self.kinds == 0, z,
                     np.sqrt(-2.0 * log_ndtr(np.where(self.kinds == 1, z, -z))))
        return np.concatenate([r, etas / self.omega], axis=1)

    def jacobian(self, eta: FloatArray) -> FloatArray:
        steps = eta + FD_STEP * np.eye(len(eta))
        r = self.residuals(np.vstack([eta, steps]))
        return np.asarray((r[1:] - r[0]).T / FD_STEP)


class IndividualFit:
    """Estimator: settings here, data in :meth:`fit`, the outcome in ``result_``.

    ``parameters``: names to fit (default: from the analytes observed, see
    :data:`ANALYTE_PARAMETER`); ``method``: ``"sir"`` or ``"laplace"``; ``n_proposals``: SIR
    proposals (one model run each); ``n_draws``: posterior draws kept; ``seed``: RNG seed.
    """

    def __init__(self, parameters: Sequence[str] | None = None, method: str = "sir",
                 n_proposals: int = 400, n_draws: int = 200, seed: int = 0) -> None:
        if method not in ("sir", "laplace"):
            raise InputError("method", method, "unknown fit method", "use sir or laplace")
        for name in parameters or ():
            prior_sd(name)
        self.parameters = tuple(parameters) if parameters else None
        self.method = method
        self.n_proposals = n_proposals
        self.n_draws = n_draws
        self.seed = seed

    def fit(self, data: PatientData) -> IndividualFit:
        start = time.perf_counter()
        names = self.parameters or tuple(dict.fromkeys(
            ANALYTE_PARAMETER[a] for a in ANALYTES if a in data.analytes and
            a in ANALYTE_PARAMETER))
        if not names:
            raise InputError("labs", ", ".join(sorted(set(data.analytes))),
                             "no analyte here informs a fitted parameter",
                             f"add labs of {', '.join(ANALYTE_PARAMETER)}")
        prob = _Problem(data, names)
        bound = MAX_ETA_SD * prob.omega
        sol = least_squares(lambda e: prob.residuals(e[None, :])[0], np.zeros(len(names)),
                            jac=prob.jacobian, bounds=(-bound, bound), x_scale=prob.omega,
                            method="trf")
        eta = np.asarray(sol.x, dtype=np.float64)
        jac = prob.jacobian(eta)
        cov = np.asarray(np.linalg.pinv(jac.T @ jac), dtype=np.float64)
        rng = np.random.default_rng(self.seed)
        notes: list[str] = []
        if self.method == "laplace":
            draws = rng.multivariate_normal(eta, cov, size=self.n_draws)
            ess = float(self.n_draws)
        else:
            draws, ess = self._sir(prob, eta, cov, rng)
            if ess < self.n_draws / 4:
                notes.append(f"importance sampling kept an effective {ess:.0f} of "
                             f"{self.n_proposals} proposals: intervals are rough; ask for more "
                             "proposals")
        pred = prob.predict(eta[None, :])[0]
        res = np.where(np.array(data.censor) == "",
                       (prob.log_obs - np.log(np.maximum(pred, _TINY))) / prob.sigma, np.nan)
        self.result_ = FitResult(
            data.patient.patient_id, data.t0, names, prob.typical, eta, cov, draws, ess,
            self.method, data.times, data.analytes, data.values, data.censor, pred, res,
            prob.n_runs, time.perf_counter() - start, tuple(notes))
        return self

    def _sir(self, prob: _Problem, eta: FloatArray, cov: FloatArray,
             rng: np.random.Generator) -> tuple[FloatArray, float]:
        """Sampling-importance-resampling with a multivariate-t proposal (5 d.o.f., scale 1.5x
        the Laplace SD) around the MAP."""
        proposal = multivariate_t(loc=eta, shape=cov * 1.5**2, df=5)
        x = np.atleast_2d(proposal.rvs(size=self.n_proposals, random_state=rng))
        x = x.reshape(self.n_proposals, len(eta))
        log_post = -0.5 * np.sum(prob.residuals(x, SIR_RTOL) ** 2, axis=1)
        log_w = log_post - proposal.logpdf(x)
        log_w = np.where(np.isfinite(log_w), log_w, -np.inf)
        w = np.exp(log_w - log_w.max())
        w /= w.sum()
        ess = float(1.0 / np.sum(w**2))
        # systematic resampling: n_draws equally weighted rows
        u = (rng.uniform() + np.arange(self.n_draws)) / self.n_draws
        picks = np.minimum(np.searchsorted(np.cumsum(w), u), len(w) - 1)
        return x[picks], ess


def fit_patient(patient: PatientInfo, labs: Sequence[LabRecord], doses: Sequence[DoseRecord],
                **settings: Any) -> FitResult:
    """Convenience: gather the records and fit (``settings`` as for :class:`IndividualFit`)."""
    return IndividualFit(**settings).fit(PatientData.from_records(patient, labs, doses)).result_
