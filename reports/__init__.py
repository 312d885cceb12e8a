"""The reporting domain: classification, routing, case states and report services."""
