"""Every page a client sees, reached only through a link token (DESIGN.md §5).

The pieces other apps reuse:

- ``portal.links``: ``ClientLink`` (abstract model: token hash and salt, created/revoked/
  expires/first-viewed times, view count), ``find_by_token``, ``link_token`` (the same link
  again for a later email), ``issue_token`` (a new link), ``revoke``, ``record_view``.
- ``portal.pages``: ``client_link_page`` (the decorator for token views: identical 404s,
  per-IP rate limit on them, privacy headers, view record and first-view hook, language and
  time zone of the object) and ``render_portal`` (adds the studio to the context).
- ``portal.files``: ``PrivateStorage`` (outside MEDIA_ROOT), ``check_upload`` (size and real
  type by content), ``attachment_response`` (download, nosniff, no-store).
- ``templates/portal/base.html``: the client layout (studio name or logo, no navigation, no
  third-party code). Blocks: ``title``, ``head``, ``body_attrs``, ``content``, ``footer``,
  ``scripts``. Pages run under a Content-Security-Policy of ``'self'`` only: no inline
  scripts or styles.
"""
