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
export { Profiler, mergeProfiles, meanOf, stdOf, type ColumnSpec } from './profile.js';
export { profileDrift } from './drift.js';
export { profileToJson, parseProfile, runProfileToJson, parseRunProfile, profileText, type InputProfile } from './json.js';
export { type Profile } from './types.js';
