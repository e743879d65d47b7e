// Package ui owns kgrun's local web UI: pages over the run store (the runs, one run with
// its graph, timeline, report and values, and a workflow with its diagnostics, scenarios
// and tests) that update live while runs write, served by the kgrun binary itself with
// every asset embedded.
//
// It reads the store only. Actions that change state (resume a run, prune old runs)
// exist only when the server is built with Actions, and then take a same-origin POST
// carrying the server's CSRF token. Everything that comes from workflow files, the store
// or failing services goes through html/template, so it is escaped.
package ui
