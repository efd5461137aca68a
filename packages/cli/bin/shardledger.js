#!/usr/bin/env node
// The installed entry point. A committed file, so that npm can link the 'shardledger' bin at
// install time (before 'tsc -b' has produced dist/); it runs the compiled CLI.
import '../dist/main.js';
