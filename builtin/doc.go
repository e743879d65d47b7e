// Package builtin owns kgrun's built-in node types: the eight roles of the
// fault-tolerant pipeline (data_collector, processor, delivery, completion,
// fallback_data, partial_processor, alternate_delivery, error_handler).
//
// They are registered explicitly with Register, never by init, so a program's registry
// says in its own code what it can run. The types simulate their work (a data source,
// per-record processing, delivery channels) from the run's seeded random streams, so a
// run is reproducible; failures of the source itself come from scenario faults, which
// the engine injects exactly like real ones.
//
// Shared-store keys written by these types (all JSON-serialisable):
//
//	records, data_source, data_age      collector and fallback_data
//	processed, failed_records, success_rate, processing_mode
//	delivery, alternate_delivery, completion, error_report
package builtin
