"""Casework: the layer above programmes, volunteers and matching that puts their records together
for the people who follow a case. It owns no models; each page reads through the apps' selectors."""
