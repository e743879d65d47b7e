package builtin

import "github.com/kgrun/kgrun/engine"

// The params each built-in type declares: checked when a workflow loads and carried into
// the JSON Schema. Params a node does not set are read from the run's params, so
// batch_size or record_failure_rate may come from the workflow, a scenario or --set.

var collectorParams = []engine.Param{
	{Name: "source", Type: engine.ParamString, Default: "primary_api", Doc: "the simulated source; also keys the cached batch that fallback_data serves"},
	{Name: "batch_size", Type: engine.ParamInt, Default: 50, Doc: "records per batch, 1 to 1000000"},
}

var processorParams = []engine.Param{
	{Name: "record_failure_rate", Type: engine.ParamNumber, Default: 0.05, Doc: "probability that one record fails, 0 to 1"},
	{Name: "min_success_rate", Type: engine.ParamNumber, Default: 0.5, Doc: "an attempt whose share of good records is lower fails, so retries apply"},
}

var deliveryParams = []engine.Param{
	{Name: "channels", Type: engine.ParamList, Doc: "channels tried in order: names, or {name, failure_rate, capacity}; default primary, secondary, backup"},
	{Name: "delivery_failure_rate", Type: engine.ParamNumber, Doc: "overrides every channel's failure_rate, 0 to 1"},
}

var fallbackParams = []engine.Param{
	{Name: "source", Type: engine.ParamString, Default: "primary_api", Doc: "the source whose cached batch is served"},
	{Name: "default_records", Type: engine.ParamInt, Default: 10, Doc: "records made when nothing is cached"},
}

var partialParams = []engine.Param{
	{Name: "limit", Type: engine.ParamInt, Default: 10, Doc: "how many records are processed, from the first"},
}

var alternateParams = []engine.Param{
	{Name: "dir", Type: engine.ParamString, Doc: "the directory written into; default the alternate_dir param"},
	{Name: "alternate_dir", Type: engine.ParamString, Doc: "the directory written into when dir is not set; default a private directory under the user's state dir"},
	{Name: "file", Type: engine.ParamString, Doc: "a plain file name; default delivery-seed<seed>-visit<visit>.json"},
	{Name: "workflow", Type: engine.ParamString, Doc: "the workflow's name, recorded in the file"},
}

var errorHandlerParams = []engine.Param{
	{Name: "fail_run", Type: engine.ParamBool, Default: true, Doc: "fail the run after handling; false degrades it instead"},
	{Name: "cleanup_keys", Type: engine.ParamList, Items: engine.ParamString, Doc: "shared keys removed after a failure; default records, processed"},
}
