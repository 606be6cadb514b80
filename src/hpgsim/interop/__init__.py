"""Exchange with other tools: SBML export of the model, a subject and a protocol.

``from hpgsim.interop.sbml import sbml_document, write_sbml`` (needs the ``sbml`` extra:
python-libsbml and sympy); the command line is ``hpgsim export-sbml`` (:mod:`hpgsim.interop.cli`).
"""
