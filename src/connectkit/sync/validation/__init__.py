"""Validation of mapped directory fields (R3.2): required names, email syntax, phone numbers.

:class:`Validator` turns one record's directory fields (``first_name``, ``last_name``,
``email``, ``phone``; any other key passes through untouched) into a :class:`Validated`:
cleaned values plus every :class:`Issue` found. Rules:

* ``required`` — ``first_name`` / ``last_name`` missing, or nothing left once whitespace and
  invisible characters are removed (``text_key`` is empty).
* ``email`` — the address, stripped of surrounding whitespace, must pass
  ``email_validator.validate_email(value, check_deliverability=False)`` (syntax only, no DNS,
  library defaults). The cleaned value is the library's ``normalized`` form. A blank or
  missing email is not an error (email is optional).
* ``phone`` — the number, stripped, must parse with ``phonenumbers.parse(value, region)`` and
  pass ``phonenumbers.is_valid_number`` (a number in the numbering plan, not merely of a
  possible length: ``is_possible_number`` accepts e.g. ``01632 96`` + any digits of the right
  length, which would be stored and later fail to dial). The cleaned value is E.164. Blank or
  missing is not an error.

Verdicts and cleaned values are *exactly* those of the two libraries. Speed comes from
(a) an ``lru_cache`` keyed by the raw value, (b) fast paths that only ever answer for inputs
whose library verdict they reproduce, and fall back to the library otherwise:

* email: a strict ASCII dot-atom / hostname regex plus the library's own length, special-use
  and RFC 2142 rules; anything else (Unicode, IDN, quotes, ``--`` in the domain …) goes to
  the library, which is also the only source of error messages;
* phone: inputs made only of ASCII digits, spaces and hyphens (optionally one leading ``+``)
  skip the library's free-text scanning and run the library's own country-code step and
  its national-prefix and length steps (precompiled per metadata, the library's function
  itself where a transform rule applies); validity is decided by a matcher compiled from
  the library's metadata that mirrors ``is_valid_number`` (per length, one alternation of
  the type patterns). Extensions, letters, brackets, Italian leading zeros → library.

``tests/sync/test_validate_agree.py`` checks with hypothesis that fast paths and library
agree on verdict and cleaned value; ``tests/sync/test_validate_fast.py`` compares each
per-record shortcut with the general step it stands in for.

Modules, one job each: :mod:`.issues` (:class:`Issue`, :class:`Validated`), :mod:`.names`
(the ``required`` rule's cleaning), :mod:`.email` and :mod:`.phone` (fast path, library
fallback, cache), :mod:`.pool` (the optional worker pool) and :mod:`.validator`
(:class:`Validator`). ``connectkit.sync.validate`` re-exports all of them.
"""

from __future__ import annotations

from connectkit.sync.validation.issues import Issue, Validated
from connectkit.sync.validation.validator import Validator

__all__ = ["Issue", "Validated", "Validator"]
