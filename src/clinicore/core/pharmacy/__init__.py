"""Pharmacies: the partner (compounding) network with the states it ships to, the clinics' exams it
fulfils and its order sets, and the retail directory loaded by ``clinicore import-pharmacies``."""
