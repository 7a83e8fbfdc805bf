"""Pure numpy evaluation of neurons and dense networks. Imports neither Flask nor the database."""
