// Data profiles and drift: a pure core (no I/O) that the run pipeline feeds chunk by chunk.
//
//   const profiler = new Profiler([
//     { name: 'tenure', kind: 'number' }, { name: 'age', kind: 'number' },
//     { name: 'plan', kind: 'text' }, { name: 'p_leave', kind: 'number' },
//   ]);
//   profiler.tensor(['tenure', 'age'], feed.data, rows);          // the columns of a row-major tensor
//   profiler.number('p_leave').add(values, rows, offset, stride);  // one column (a strided view)
//   profiler.text('plan').add(strings, rows);
//   const profile = profiler.finish();                            // exact, mergeable state
//   mergeProfiles(a, b);                                          // shards, in any order
//   profileToJson(profile, reference);                            // JSON data, histograms on the reference's bins
//   parseProfile(text, file);                                     // validated, or one SbError line
//   profileDrift(profile, reference, columns);                    // PSI and JS distance per column
export { Profiler, mergeProfiles, meanOf, stdOf, missingRate, finiteCount, numberHistogram, textHistogram, HISTOGRAM_BINS, TOP_VALUES, type ColumnSpec } from './profile.js';
export { NumberProfiler, type NumericData } from './numeric.js';
export { TextProfiler, TEXT_DISTINCT_CAP } from './text.js';
export { columnDrift, profileDrift, psi, jsDistance, EPSILON, type ColumnDrift } from './drift.js';
export { profileToJson, parseProfile, runProfileToJson, parseRunProfile, profileText, type InputProfile, type ParseOptions } from './json.js';
export { keyOf, keyLower, SKETCH_BITS, type Sketch } from './sketch.js';
export { PROFILE_VERSION, type Profile, type ColumnProfile, type NumberColumnProfile, type TextColumnProfile, type NumberHistogram, type TextHistogram } from './types.js';
