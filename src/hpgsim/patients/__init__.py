"""Patients: lab records, dose history, individual fits and protocol forecasts.

Modules: ``labs`` (lab records, units, LOINC, censoring, validation), ``records`` (patient
covariates, dose history, the regimen it amounts to), ``csv_io`` and ``fhir`` (import/export),
``store`` (the SQLAlchemy database; needs the ``patients`` extra), ``fit`` (MAP with the
population prior plus posterior draws), ``titration`` (candidate protocols with rules),
``forecast`` (bands, endpoints, ranking), ``report`` (figures), ``cli`` (commands).

Nothing heavy is imported here: SQLAlchemy loads only with ``hpgsim.patients.store``.
"""
