import * as hdr from 'hdr-histogram-js'

/**
 * The one histogram setting for request times: integer microseconds from 1 µs to 60 s, 3
 * significant digits. Server, harness and load drivers all build theirs here, so histograms merge.
 */
export function newHistogram(): hdr.Histogram {
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 })
}
