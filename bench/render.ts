// Renders a saved run again (its Markdown, targets table first) from its raw JSON: tsx bench/render.ts .bench/results-<date>.json
import fs from 'node:fs';
import { renderRun, type RunResults } from './report';

const file = process.argv[2];
if (!file) throw new Error('Usage: tsx bench/render.ts .bench/results-<date>.json');
console.log(renderRun(JSON.parse(fs.readFileSync(file, 'utf8')) as RunResults));
