"""The partner console (``/partner``): a partner's people sign in to manage its white-label brand and
hosts, its master roles and master forms, and to see its practices."""
