package loaders

// NewWithWindow lets tests widen the batch window, so a batch never splits on a busy machine.
var NewWithWindow = newWithWindow
