"""Validation of mapped directory fields (R3.2): required names, email syntax, phone numbers.

The code lives in :mod:`connectkit.sync.validation` (one module per job; its docstring
states the rules). This module keeps the historical import path working: it re-exports
every name it used to define, so ``from connectkit.sync.validate import …`` is unchanged.
"""

from __future__ import annotations

from connectkit.sync.validation.email import _ATEXT as _ATEXT
from connectkit.sync.validation.email import _FAST_EMAIL as _FAST_EMAIL
from connectkit.sync.validation.email import _LABEL as _LABEL
from connectkit.sync.validation.email import _MAILBOX_NAMES as _MAILBOX_NAMES
from connectkit.sync.validation.email import _SPECIAL_USE as _SPECIAL_USE
from connectkit.sync.validation.email import _TLD as _TLD
from connectkit.sync.validation.email import check_email as check_email
from connectkit.sync.validation.email import fast_email as fast_email
from connectkit.sync.validation.email import library_email as library_email
from connectkit.sync.validation.issues import _SHOWN_MAX as _SHOWN_MAX
from connectkit.sync.validation.issues import Issue as Issue
from connectkit.sync.validation.issues import Validated as Validated
from connectkit.sync.validation.issues import _shown as _shown
from connectkit.sync.validation.names import _LABELS as _LABELS
from connectkit.sync.validation.names import _STRAY_INVISIBLES as _STRAY_INVISIBLES
from connectkit.sync.validation.names import REQUIRED_FIELDS as REQUIRED_FIELDS
from connectkit.sync.validation.names import clean_name as clean_name
from connectkit.sync.validation.phone import _NO_SUCH_NUMBER as _NO_SUCH_NUMBER
from connectkit.sync.validation.phone import _NOT_ACCEPTED_LENGTH as _NOT_ACCEPTED_LENGTH
from connectkit.sync.validation.phone import _PHONE_SHAPE as _PHONE_SHAPE
from connectkit.sync.validation.phone import _country_validity as _country_validity
from connectkit.sync.validation.phone import _CountryValidity as _CountryValidity
from connectkit.sync.validation.phone import _desc_pattern as _desc_pattern
from connectkit.sync.validation.phone import _idd_pattern as _idd_pattern
from connectkit.sync.validation.phone import _region_metadata as _region_metadata
from connectkit.sync.validation.phone import _TypeMatcher as _TypeMatcher
from connectkit.sync.validation.phone import check_phone as check_phone
from connectkit.sync.validation.phone import fast_phone_parse as fast_phone_parse
from connectkit.sync.validation.phone import library_phone as library_phone
from connectkit.sync.validation.pool import _POOLS as _POOLS
from connectkit.sync.validation.pool import _default_workers as _default_workers
from connectkit.sync.validation.pool import _main_hidden as _main_hidden
from connectkit.sync.validation.pool import _pool as _pool
from connectkit.sync.validation.pool import _pool_failed as _pool_failed
from connectkit.sync.validation.pool import log as log
from connectkit.sync.validation.validator import Validator as Validator
from connectkit.sync.validation.validator import _email_issue as _email_issue
from connectkit.sync.validation.validator import _from_row as _from_row
from connectkit.sync.validation.validator import _IssueRow as _IssueRow
from connectkit.sync.validation.validator import _required as _required
from connectkit.sync.validation.validator import _Row as _Row
from connectkit.sync.validation.validator import _validate_rows as _validate_rows

__all__ = ["Issue", "Validated", "Validator"]
