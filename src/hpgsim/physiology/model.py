"""The HPG-axis ODE: state layout, right-hand side and observables, written once.

Time in hours. States are normalised to the reference man (1 at his steady state) except LH,
FSH (IU/L) and SHBG (nmol/L). The right-hand side is plain arithmetic on numpy values, so it
runs on one state vector or on a (states, n) block of trajectories or subjects.

Signal flow (all relative to the reference man unless a unit is given):
  free T, E2 at the ER (SERM-blocked)  -> pulse frequency f, pulse mass m      (hypothalamus)
  E2 at the ER -> gonadotrope responsiveness (LH, FSH); inhibin B -> FSH         (pituitary)
  f*m (+ pump pulses), agonist occupancy -> receptor desensitisation D_R, down-regulation R_T
  -> GnRH signal S -> LH/FSH pools -> serum LH, FSH (IU/L)                      (pituitary)
  LH + hCG (+ exogenous LH) -> Leydig (desensitisation D_L, enzymes E_L, mass M_L) -> T production
  -> serum T (+ exogenous T), ITT; aromatase -> E2; SHBG binding -> free T      (periphery, testis)
  serum T far above physiological -> androgen injury -> lower M_L and free-T set point (years)
  ITT, FSH, Sertoli capacity -> germ-cell chain -> epididymis -> sperm; inhibin B -> FSH
  ITT x FSH -> testis maturity (pubertal; gates entry into meiosis; 1 in adult men)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from hpgsim.physiology import hypothalamus, periphery, pharmacodynamics, pituitary, testis
from hpgsim.physiology.mathops import NUMPY, MathOps
from hpgsim.physiology.reference import REFERENCE
from hpgsim.units import T_NG_DL_PER_NMOL_L

N_CHAIN = int(testis.PARAMS["n_chain"].value)
N_APOPTOTIC = int(testis.PARAMS["n_chain_apoptotic"].value)  # stages that die without support
STATE_NAMES: tuple[str, ...] = (
    "receptor_desensitised",  # D_R, fraction
    "receptor_total",  # R_T, relative
    "gonadotrope_capacity",  # CapG, relative
    "lh_pool",  # relative
    "lh",  # IU/L (endogenous)
    "fsh_pool",  # relative
    "fsh",  # IU/L (endogenous)
    "leydig_desensitised",  # D_L, fraction
    "leydig_enzymes",  # E_L, relative
    "leydig_capacity",  # M_L, relative
    "leydig_output",  # T secretion, relative; lags the instantaneous drive by ~2 h
    "shbg",  # nmol/L
    "germ_capacity",  # Sertoli/germ-cell capacity, relative
    "sertoli_fsh_tolerance",  # Sertoli FSH-receptor desensitisation to FSH above normal, >= 1
    "damage",  # suppression-damage integrator, >= 0
    "androgen_injury",  # lasting injury from supraphysiological androgen, fraction in [0, 1)
    "testis_maturity",  # pubertal (Sertoli) maturity: 1 in adults, ~0 in congenital GnRH deficiency
    *(f"germ_{i + 1}" for i in range(N_CHAIN)),
    "epididymis",  # relative
)
IDX = {name: i for i, name in enumerate(STATE_NAMES)}
N_STATES = len(STATE_NAMES)

# drug species the physiology reads (concentration units as in the catalog)
DRUG_INPUTS = ("testosterone", "hcg", "lh", "fsh", "gonadorelin", "leuprolide", "degarelix",
               "enclomiphene", "zuclomiphene", "tamoxifen", "endoxifen", "anastrozole", "letrozole")

ALL_TABLES = (REFERENCE, hypothalamus.PARAMS, pituitary.PARAMS, testis.PARAMS, periphery.PARAMS,
              pharmacodynamics.PARAMS)


def default_parameters() -> dict[str, float]:
    """Every model parameter at its tabulated value (before subject covariates)."""
    out: dict[str, float] = {}
    for table in ALL_TABLES:
        out.update(table.values_dict())
    return out


@dataclass(frozen=True)
class DrugLevels:
    """Drug concentrations at one instant (or arrays over time) plus the pump's mean-field input."""

    conc: Mapping[str, Any]  # species -> concentration (0 when absent)
    pump_rate: Any = 0.0  # pulses/h
    pump_dose: Any = 0.0  # ug bioavailable per pulse

    def __getitem__(self, species: str) -> Any:
        return self.conc.get(species, 0.0)


NO_DRUG = DrugLevels({})


def _hill(o: MathOps, x: Any, k: Any, n: Any) -> Any:
    xn = o.power(o.maximum(x, 0.0), n)
    return xn / (xn + k**n)


class Physiology:
    """The model for one parameter set: derived constants, right-hand side, observables."""

    def __init__(self, params: Mapping[str, Any], ops: MathOps = NUMPY) -> None:
        p = dict(params)
        self.p = p
        self.o = o = ops
        ln2 = o.log(2.0)
        self.T_ref_nmol = p["T_ref"] / T_NG_DL_PER_NMOL_L
        self.FT_ref = periphery.free_testosterone_nmol(
            self.T_ref_nmol, p["SHBG_ref"], p["albumin"], p["K_shbg"], p["K_alb"], p["albumin_mw"])
        self.r_fT = hypothalamus.ref_ratio(p["fT_ref"], p["n_fT"])
        self.r_fE = hypothalamus.ref_ratio(p["fE_ref"], p["n_fE"])
        self.r_mE = hypothalamus.ref_ratio(p["mE_ref"], 1.0)
        self.r_pE = hypothalamus.ref_ratio(p["pE_ref"], 1.0)
        f_ref = 1.0 / p["pulse_interval_ref"]
        self.f_ref = f_ref
        # reference receptor state (closed form at the reference duty cycle)
        theta0 = p["tau_pulse"] * f_ref
        h0 = theta0 ** p["n_des"] / (theta0 ** p["n_des"] + p["theta50_des"] ** p["n_des"])
        self.D_R0 = p["k_des"] * h0 / (p["k_des"] * h0 + p["k_res"])
        self.R_T0 = p["k_rsyn"] / (p["k_rsyn"] + p["k_down"] * h0)
        self.S_norm = self.R_T0 * (1.0 - self.D_R0) * theta0
        self.f_scale = f_ref / (p["f_max"] * p["fT_ref"] * p["fE_ref"])  # pulse freq at reference
        # Leydig reference
        lh = p["LH_ref"]
        self.H3_ref = 1.0 + p["Lmax"] * _hill(o, lh, p["L50"], p["kappa"])
        hd0 = lh**2 / (lh**2 + p["K_DL"] ** 2)
        k_rL = ln2 / p["t_half_rL"]
        self.D_L0 = p["k_dL"] * hd0 / (p["k_dL"] * hd0 + k_rL)
        self.E_ref = lh / (lh + p["K_E"])
        self.M_ref = lh / (lh + p["K_ML"])
        self.ITT_endo_ref = p["ITT_ref"] - p["itt_partition"] * self.T_ref_nmol
        self.H_ITT_ref = _hill(o, 1.0, p["K_ITT"], p["n_ITT"])
        self.H_F_ref = p["phi_FSH"] + (1.0 - p["phi_FSH"]) * 1.0 / (1.0 + p["K_FSH_S"])
        self.inh_ref = 1.0 / (1.0 + (1.0 / p["K_inh"]) ** p["n_inh"])
        self.efsh_ref = 1.0 / (1.0 + (1.0 / p["K_E_FSH"]) ** p["n_E_FSH"])
        self.k = {  # rates 1/h
            "LH": ln2 / p["t_half_LH"], "FSH": ln2 / p["t_half_FSH"],
            "fsh_tol": ln2 / p["t_half_fsh_tolerance"],
            "capG_down": ln2 / p["t_half_capG_down"], "capG_up": ln2 / p["t_half_capG_up"],
            "rL": k_rL, "E": ln2 / p["t_half_E"], "T_out": ln2 / p["t_half_T_out"],
            "ML_down": ln2 / p["t_half_ML_down"], "ML_up": ln2 / p["t_half_ML_up"],
            "shbg": ln2 / p["t_half_shbg"], "tr": p["n_chain"] / p["t_spermatogenesis"],
            "epi": ln2 / p["t_half_epi"],
            "sert_down": ln2 / p["t_half_sert_down"], "sert_up": ln2 / p["t_half_sert_up"],
            "dmg_in": 1.0 / p["t_half_damage_in"], "dmg_out": ln2 / p["t_half_damage_out"],
            "inj_in": ln2 / p["t_half_injury_in"], "inj_out": ln2 / p["t_half_injury_out"],
            "mat_up": ln2 / p["t_half_maturation"], "mat_loss": ln2 / p["t_half_maturity_loss"],
        }

    # --- algebraic signals ----------------------------------------------------------------

    def signals(self, y: Any, d: DrugLevels) -> dict[str, Any]:
        """Every algebraic quantity of the model at state ``y`` under drug levels ``d``."""
        p, o = self.p, self.o
        g = {name: y[i] for name, i in IDX.items()}
        # Leydig drive and testosterone
        hcg = d["hcg"]
        occ_hcg = _hill(o, hcg, p["hcg_EC50"], p["hcg_n"])
        drive_hcg = p["hcg_Dmax"] * occ_hcg
        drive = g["lh"] + d["lh"] + drive_hcg
        # acute steroidogenic lesion at very high hCG drive (T plateau before the second peak)
        lesion = 1.0 / (1.0 + o.power(drive_hcg / p["K_lesion"], p["n_lesion"]))
        h3 = (1.0 + p["Lmax"] * _hill(o, drive, p["L50"], p["kappa"])) / self.H3_ref
        r_T_target = (g["leydig_capacity"] * g["leydig_enzymes"]
                      * (1.0 - g["leydig_desensitised"]) / (1.0 - self.D_L0) * h3 * lesion)
        r_T = g["leydig_output"]
        a_adr = p["adrenal_T_fraction"]
        t_endo = p["T_ref"] * (a_adr + (1.0 - a_adr) * r_T)
        tt = t_endo + d["testosterone"]
        tt_nmol = tt / T_NG_DL_PER_NMOL_L
        ft = periphery.free_testosterone_nmol(tt_nmol, g["shbg"], p["albumin"], p["K_shbg"],
                                              p["K_alb"], p["albumin_mw"])
        # aromatase and E2
        ana, let = d["anastrozole"], d["letrozole"]
        ai = (p["AI_Imax_anastrozole"] * ana / (ana + p["IC50_anastrozole"])
              + p["AI_Imax_letrozole"] * let / (let + p["IC50_letrozole"]))
        ai = o.minimum(ai, 0.99)
        share = p["E2_testis_share"]
        e2 = p["E2_ref"] * (1.0 - ai) * ((1.0 - share) * p["aromatase_scale"] * tt / p["T_ref"]
                                          + share * r_T)
        # SERM occupancy of the ER (competitive, hypothalamus and pituitary alike)
        occ = sum(d[name] / p[f"IC50_{name}"]
                  for name in ("enclomiphene", "zuclomiphene", "tamoxifen", "endoxifen"))
        er_block = p["serm_Imax"] * occ / (1.0 + occ)
        e2_er = e2 * (1.0 - er_block) / p["E2_ref"]
        # hypothalamus; androgen injury lowers the free-T set point (lasting central suppression)
        setpoint = p["fT_setpoint"] * (1.0 - p["injury_central_share"] * g["androgen_injury"])
        e2_hyp = e2_er / setpoint  # the set point scales the sensing of both steroids
        f = (p["f_max"] * self.f_scale
             / (1.0 + (ft / (self.FT_ref * setpoint) * self.r_fT) ** p["n_fT"])
             / (1.0 + (e2_hyp * self.r_fE) ** p["n_fE"]))
        mass = p["m_endo"] * (1.0 + self.r_mE) / (1.0 + e2_hyp * self.r_mE)
        pump_mass = p["pump_Emax"] * d.pump_dose / (d.pump_dose + p["pump_D50"])
        pumping = o.where(d.pump_dose > 0.0, d.pump_rate, 0.0)
        theta_c = (d["gonadorelin"] / (d["gonadorelin"] + p["KD_gonadorelin"])
                   + d["leuprolide"] / (d["leuprolide"] + p["KD_leuprolide"]))
        theta_c = o.minimum(theta_c, 1.0)
        # desensitisation reads the share of time the receptor is occupied (pulse duty cycle);
        # the gonadotrope signal reads GnRH delivered per unit time (frequency x mass)
        duty = p["tau_pulse"] * (f * o.minimum(mass, 1.0) + pumping * o.minimum(pump_mass, 1.0))
        theta = theta_c + (1.0 - theta_c) * o.minimum(duty, 1.0)
        stim = p["tau_pulse"] * (f * mass + d.pump_rate * pump_mass) + p["w_continuous"] * theta_c
        c_deg = o.power(d["degarelix"], p["gamma_degarelix"])
        antag = p["Imax_degarelix"] * c_deg / (c_deg + p["IC50_degarelix"] ** p["gamma_degarelix"])
        resp_E2 = (1.0 + self.r_pE) / (1.0 + e2_er * self.r_pE)
        S = (g["receptor_total"] * (1.0 - g["receptor_desensitised"]) * (1.0 - antag) * stim
             / self.S_norm * resp_E2)
        # Sertoli, inhibin B, germ cells
        itt = self.ITT_endo_ref * r_T + p["itt_partition"] * tt_nmol
        fsh_tot = g["fsh"] + d["fsh"]
        fsh_rel = fsh_tot / p["FSH_ref"]
        y_f = fsh_rel / g["sertoli_fsh_tolerance"]
        h_f = p["phi_FSH"] + (1.0 - p["phi_FSH"]) * y_f / (y_f + p["K_FSH_S"])
        itt_support = _hill(o, itt / p["ITT_ref"], p["K_ITT"], p["n_ITT"]) / self.H_ITT_ref
        support = itt_support * h_f / self.H_F_ref
        chain = [g[f"germ_{i + 1}"] for i in range(N_CHAIN)]
        late = sum(chain[N_CHAIN // 2:]) / (N_CHAIN - N_CHAIN // 2)
        inhb_rel = (g["germ_capacity"] * h_f / self.H_F_ref
                    * ((1.0 - p["inhB_germ_share"]) + p["inhB_germ_share"] * late))
        return {
            "drive": drive, "occ_hcg": occ_hcg, "r_T": r_T, "r_T_target": r_T_target, "t_total": tt,
            "free_t_nmol": ft, "e2": e2,
            "er_block": er_block, "e2_er": e2_er, "ai": ai, "f": f, "mass": mass, "theta": theta,
            "theta_c": theta_c, "S": S, "itt": itt, "fsh_total": fsh_tot, "fsh_rel": fsh_rel,
            "h_f": h_f, "itt_support": itt_support,
            "support": support, "inhb_rel": inhb_rel, "chain_mean": sum(chain) / N_CHAIN,
        }

    # --- right-hand side ------------------------------------------------------------------

    def rhs(self, y: Any, d: DrugLevels) -> Any:
        """dy/dt (per hour) at state ``y`` under drug levels ``d``."""
        p, k, o = self.p, self.k, self.o
        s = self.signals(y, d)
        g = {name: y[i] for name, i in IDX.items()}
        dy = [0.0] * N_STATES
        S = s["S"]
        # pituitary receptor
        th = s["theta"]
        h_des = th ** p["n_des"] / (th ** p["n_des"] + p["theta50_des"] ** p["n_des"])
        dy[IDX["receptor_desensitised"]] = (p["k_des"] * h_des * (1.0 - g["receptor_desensitised"])
                                            - p["k_res"] * g["receptor_desensitised"])
        dy[IDX["receptor_total"]] = (p["k_rsyn"] * (1.0 - g["receptor_total"])
                                     - p["k_down"] * h_des * g["receptor_total"])
        # gonadotrope capacity (slow), slowed recovery after damage
        cap = g["gonadotrope_capacity"]
        floor = p["capG_floor"]
        target_g = floor + (1.0 - floor) * S / (S + p["K_capG"]) * (1.0 + p["K_capG"])
        slow = 1.0 / (1.0 + g["damage"])
        dy[IDX["gonadotrope_capacity"]] = o.where(
            target_g < cap, k["capG_down"], k["capG_up"] * slow) * (target_g - cap)
        # LH
        dy[IDX["lh_pool"]] = p["k_rel_LH"] * S * (cap - g["lh_pool"])
        dy[IDX["lh"]] = k["LH"] * (p["LH_ref"] * p["lh_scale"] * S * g["lh_pool"] - g["lh"])
        # FSH: weaker GnRH dependence, favoured by slow pulses, inhibited by inhibin B and by
        # E2 at the (SERM-blockable) pituitary ER
        s_f = o.power(o.maximum(S, 0.0), p["a_FSH"])
        fr = s["f"] / self.f_ref
        freq_pref = (1.0 + p["c_freq_FSH"]) / (1.0 + p["c_freq_FSH"] * fr**2)
        inhb = o.maximum(s["inhb_rel"], 0.0)
        inh = 1.0 / (1.0 + (inhb / p["K_inh"]) ** p["n_inh"]) / self.inh_ref
        t_rel = s["t_total"] / p["T_ref"]
        e_er = o.maximum(s["e2_er"], 0.0)
        e_inh = 1.0 / (1.0 + (e_er / p["K_E_FSH"]) ** p["n_E_FSH"]) / self.efsh_ref
        synth_f = cap * freq_pref * inh * e_inh
        dy[IDX["fsh_pool"]] = p["k_rel_FSH"] * s_f * (synth_f - g["fsh_pool"])
        # a share of FSH is secreted as it is made (constitutive route), the rest from the pool
        # with each GnRH pulse
        c_f = p["fsh_constitutive"]
        dy[IDX["fsh"]] = k["FSH"] * (p["FSH_ref"] * p["fsh_scale"]
                                     * (c_f * synth_f + (1.0 - c_f) * s_f * g["fsh_pool"])
                                     - g["fsh"])
        # Leydig
        drive = s["drive"]
        hd = drive**2 / (drive**2 + p["K_DL"] ** 2)
        dl = g["leydig_desensitised"]
        # sustained hCG occupancy desensitises beyond its LH-equivalent drive
        dy[IDX["leydig_desensitised"]] = ((p["k_dL"] * hd + p["k_dL_hcg"] * s["occ_hcg"])
                                          * (1.0 - dl) - k["rL"] * dl)
        target_e = drive / (drive + p["K_E"]) / self.E_ref
        dy[IDX["leydig_enzymes"]] = k["E"] * (target_e - g["leydig_enzymes"])
        ml = g["leydig_capacity"]
        injury = g["androgen_injury"]
        target_m = p["leydig_max"] * (1.0 - injury) * drive / (drive + p["K_ML"]) / self.M_ref
        dy[IDX["leydig_capacity"]] = o.where(
            target_m < ml, k["ML_down"], k["ML_up"] * slow) * (target_m - ml)
        # androgen injury accrues with the share of serum T above the injury threshold
        above = o.maximum(1.0 - p["T_injury"] * p["T_ref"] / s["t_total"], 0.0)
        dy[IDX["androgen_injury"]] = k["inj_in"] * above * (1.0 - injury) - k["inj_out"] * injury
        dy[IDX["leydig_output"]] = k["T_out"] * (s["r_T_target"] - g["leydig_output"])
        # SHBG
        t_rel_pos = o.maximum(t_rel, 1e-3)
        dy[IDX["shbg"]] = k["shbg"] * (p["SHBG_ref"] * p["shbg_scale"]
                                       * t_rel_pos ** (-p["shbg_T_exponent"]) - g["shbg"])
        # germ-cell capacity and damage
        sup = s["support"]
        sup_c = o.minimum(o.maximum(sup, 0.0), 1.0)
        # the share of capacity lost grows with accumulated damage (long suppression)
        lost = 1.0 - (1.0 - p["sertoli_loss"]) / (1.0 + g["damage"])
        target_s = p["germ_max"] * (1.0 - lost * (1.0 - sup_c))
        gc = g["germ_capacity"]
        # Sertoli cells desensitise to FSH held above normal (rebound after suppression), never
        # sensitise below it
        fsh_above = o.maximum(s["fsh_rel"], 1.0)
        dy[IDX["sertoli_fsh_tolerance"]] = k["fsh_tol"] * (fsh_above - g["sertoli_fsh_tolerance"])
        dy[IDX["germ_capacity"]] = o.where(
            target_s < gc, k["sert_down"], k["sert_up"] * slow) * (target_s - gc)
        deficit = o.maximum(1.0 - cap, 0.0)
        dy[IDX["damage"]] = k["dmg_in"] * deficit - k["dmg_out"] * g["damage"]
        # testis (Sertoli) maturity, ~0 in congenital GnRH deficiency until puberty is induced:
        # maturation needs ITT and FSH together (drive 1 at reference); without them maturity
        # relaxes to its floor (1: an adult testis keeps its maturity)
        mat_drive = s["itt_support"] * o.power(o.maximum(s["fsh_rel"], 0.0), p["n_maturity_FSH"])
        mat = g["testis_maturity"]
        dy[IDX["testis_maturity"]] = (k["mat_up"] * mat_drive * (1.0 - mat)
                                      - k["mat_loss"] * (mat - p["maturity_floor"]))
        # germ-cell chain and epididymis
        k_tr = k["tr"]
        k_ap = p["apoptosis_factor"] * k_tr * (1.0 - sup_c)
        # immature Sertoli cells hold germ cells (and make inhibin B) but carry none through meiosis
        meiosis = o.power(o.maximum(mat, 0.0), p["n_maturity"])
        inflow = k_tr * o.minimum(sup, p["support_max"]) * gc * meiosis
        for i in range(N_CHAIN):
            gi = g[f"germ_{i + 1}"]
            dying = k_ap * gi if i < N_APOPTOTIC else 0.0  # later stages complete regardless
            dy[IDX[f"germ_{i + 1}"]] = inflow - k_tr * gi - dying
            inflow = k_tr * gi
        dy[IDX["epididymis"]] = k["epi"] * (g[f"germ_{N_CHAIN}"] - g["epididymis"])
        return np.array(dy)

    # --- observables ----------------------------------------------------------------------

    def observables(self, y: Any, d: DrugLevels) -> dict[str, Any]:
        """Clinical observables in canonical units (see ``hpgsim.units.ANALYTES``)."""
        p = self.p
        s = self.signals(y, d)
        sperm = p["sperm_ref"] * p["sperm_scale"] * y[IDX["epididymis"]]
        return {
            "total_testosterone": s["t_total"],
            "free_testosterone": s["free_t_nmol"] * 288.42,  # nmol/L -> pg/mL (MW 288.42)
            "lh": y[IDX["lh"]] + d["lh"],
            "fsh": s["fsh_total"],
            "estradiol": s["e2"],
            "shbg": y[IDX["shbg"]],
            "inhibin_b": p["InhB_ref"] * p["inhb_scale"] * s["inhb_rel"],
            "intratesticular_testosterone": s["itt"],
            "sperm_concentration": sperm,
            "total_sperm_count": sperm * p["semen_volume"],
            "testis_volume": p["testis_volume_ref"] * p["testis_volume_scale"]
            * ((1.0 - p["tubule_volume_share"]) + p["tubule_volume_share"] * s["chain_mean"]),
        }

    def reference_state(self) -> np.ndarray:
        """The reference man's steady state (exact when all subject scales are 1)."""
        y = np.ones(N_STATES)
        y[IDX["receptor_desensitised"]] = self.D_R0
        y[IDX["receptor_total"]] = self.R_T0
        y[IDX["lh"]] = self.p["LH_ref"]
        y[IDX["fsh"]] = self.p["FSH_ref"]
        y[IDX["leydig_desensitised"]] = self.D_L0
        y[IDX["shbg"]] = self.p["SHBG_ref"]
        y[IDX["damage"]] = 0.0
        y[IDX["androgen_injury"]] = 0.0
        return y
