/**
 * `--map` rules: structure (ROI or segment) names to label values, e.g. 'GTVn*,*node*mal*=2; LN*,*node*=1'.
 * Rules are separated by ';', each 'pattern[,pattern...]=label'. A pattern is a case-insensitive glob over
 * the whole name (* any run, ? one character) or, between slashes, a case-insensitive regular expression
 * (/^ln_l\d+$/). The first rule with a matching pattern wins, in the order written.
 * A rule may name its label, 'GTVn*=2:malignant_node'; otherwise the label is named after the first
 * pattern without its wildcards ('GTVn*' -> 'GTVn'), as nnU-Net's dataset.json needs names (and nodal
 * reads malignancy from them: GTV..., malignant..., metastatic...).
 */
import { NodalError } from '../../errors.js'

export interface MapRule {
  /** The rule as written, for reports. */
  text: string
  patterns: RegExp[]
  label: number
  name: string
}

/** dataset.json's labels for these rules: background 0, then each label value named by its first rule. */
export function labelNames(rules: MapRule[]): Record<string, number> {
  const names: Record<string, number> = { background: 0 }
  const taken = new Set<number>()
  for (const r of rules) {
    if (taken.has(r.label)) continue
    taken.add(r.label)
    names[r.name in names ? `${r.name}_${r.label}` : r.name] = r.label
  }
  return names
}

export function parseMapRules(text: string): MapRule[] {
  const rules = text.split(';').map((r) => r.trim()).filter((r) => r !== '').map(parseRule)
  if (rules.length === 0) throw badRules(text, 'no rules')
  return rules
}

/** The rule that maps a structure name, or null. */
export function matchRule(rules: MapRule[], name: string): { rule: number; label: number } | null {
  const trimmed = name.trim()
  const index = rules.findIndex((r) => r.patterns.some((p) => p.test(trimmed)))
  return index < 0 ? null : { rule: index, label: rules[index]!.label }
}

function parseRule(rule: string): MapRule {
  const eq = rule.lastIndexOf('=')
  if (eq < 0) throw badRules(rule, "expected 'pattern[,pattern...]=label'")
  const [labelText, given] = rule.slice(eq + 1).split(':').map((x) => x.trim()) as [string, string | undefined]
  const label = Number(labelText)
  if (!/^\d+$/.test(labelText) || label < 1 || label > 254) throw badRules(rule, `label '${labelText}' must be an integer from 1 to 254`)
  const patterns = splitPatterns(rule.slice(0, eq)).map((p) => toRegExp(p, rule))
  if (patterns.length === 0) throw badRules(rule, 'no pattern before =')
  if (given !== undefined && !/^[A-Za-z][A-Za-z0-9_]*$/.test(given)) throw badRules(rule, `label name '${given}' must be letters, digits and _`)
  return { text: rule, patterns, label, name: given ?? nameFromPattern(splitPatterns(rule.slice(0, eq))[0]!, label) }
}

function nameFromPattern(pattern: string, label: number): string {
  const words = pattern.replace(/^\/|\/$/g, '').replace(/\\[a-z]/gi, ' ').replace(/[^A-Za-z0-9]+/g, ' ').trim().split(' ').filter((w) => w !== '')
  return words.length && /^[A-Za-z]/.test(words[0]!) ? words.join('_') : `label_${label}`
}

/** Commas separate patterns, except inside a /regex/ (which may hold {2,3}). */
function splitPatterns(text: string): string[] {
  const out: string[] = []
  let current = '', inRegex = false
  for (const ch of text) {
    if (ch === '/' && current.trim() === '') inRegex = true
    else if (ch === '/' && inRegex) inRegex = false
    if (ch === ',' && !inRegex) { out.push(current); current = '' } else current += ch
  }
  out.push(current)
  return out.map((p) => p.trim()).filter((p) => p !== '')
}

function toRegExp(pattern: string, rule: string): RegExp {
  if (pattern.length >= 2 && pattern.startsWith('/') && pattern.endsWith('/')) {
    try {
      return new RegExp(pattern.slice(1, -1), 'i')
    } catch (e) {
      throw badRules(rule, `bad regular expression ${pattern} (${(e as Error).message})`)
    }
  }
  const body = [...pattern].map((ch) => (ch === '*' ? '.*' : ch === '?' ? '.' : ch.replace(/[.+^${}()|[\]\\]/g, '\\$&'))).join('')
  return new RegExp(`^${body}$`, 'i')
}

function badRules(where: string, problem: string): NodalError {
  return new NodalError('usage', `dataset import: --map rule '${where}': ${problem} (e.g. 'GTVn*,*node*mal*=2; LN*,*node*=1')`)
}
