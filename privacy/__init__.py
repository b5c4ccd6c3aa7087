"""Privacy: people's rights over their data (access reports, erasure on request) and retention,
which removes personal data a set time after Kobling stops needing it. It sits above
programmes, volunteers and matching, whose records it reads and erases; it owns no models."""
