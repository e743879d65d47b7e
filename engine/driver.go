package engine

// A run's loop runs on a goroutine of its own (see drive.go). A fresh goroutine starts
// with a small stack that the loop's deep calls grow, by copying, on every run: with
// the four policies that was most of a one-node run's cost (about 15 µs of 16). So
// loops run on drivers: goroutines kept after a run, whose stacks have already grown.
//
// At most maxIdleDrivers wait between runs, parked on a channel receive; a driver whose
// run ended it (runtime.Goexit from node code, or a hung exec the watchdog abandoned) is
// simply gone, and the next run starts a new one.

const maxIdleDrivers = 16

// idleDrivers holds the drivers waiting for a run.
var idleDrivers = make(chan *driver, maxIdleDrivers)

// driver is one goroutine that runs functions handed to it, one after another.
type driver struct{ work chan func() }

// goDriven runs f on an idle driver, or on a new one when none is idle. Like a go
// statement, it returns at once.
func goDriven(f func()) {
	select {
	case d := <-idleDrivers:
		d.work <- f
	default:
		d := &driver{work: make(chan func(), 1)}
		d.work <- f
		go d.loop()
	}
}

func (d *driver) loop() {
	for f := range d.work {
		f()
		select {
		case idleDrivers <- d:
		default:
			return // enough drivers wait already
		}
	}
}
