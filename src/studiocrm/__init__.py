"""studiocrm: a CRM for web studios, from the first message to a paid invoice."""
