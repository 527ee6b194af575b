"""Open Referral UK (HSDS 3.0, UK profile): how our directory is written as ORUK JSON.

``mapping`` turns our models into ORUK objects (the API and the exporter use it); the importer's reverse
direction lives in ``parsing``. Every ORUK ``id`` is one of our UUIDs; objects we keep no row for (an
attribute linking a service to a term, an organisation identifier) get a UUID derived from what they link,
so the same data always gives the same ids.
"""

HSDS_VERSION = "3.0"
PROFILE_URL = "https://github.com/OpenReferralUK/uk-profile"
