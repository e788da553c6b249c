/**
 * Which loops the transform can hand to the runtime as closures (so the tracer may lift
 * them into one loop node), and what those closures need: the loop variables (assigned
 * inside, declared outside) and the `break`/`continue` statements that leave the body.
 *
 * A body becomes `() => { body }`, so anything whose meaning depends on being directly in
 * the function is out: `return`, `await`/`yield`, `var` (it would stop being visible after
 * the loop), and jumps to statements outside the loop. The rewrite passes the reason's
 * index in NOT_LIFTABLE to the runtime hook, which says it in explain().
 */
import type { BreakStatement, ContinueStatement, DoWhileStatement, ForStatement, Identifier, LabeledStatement, Node, Pattern, WhileStatement } from 'acorn';
import { forEachChild, isFunctionNode, patternNames, type ScopeInfo } from './scope.js';

export type LiftableLoop = WhileStatement | DoWhileStatement | ForStatement;

/** Why the transform leaves a loop native, as explain() says it. */
export const NOT_LIFTABLE = [
  'its body returns from the function',
  'its body awaits or yields',
  'its body declares a var (visible after the loop)',
  'its body jumps out of it with a labelled break or continue',
  'its for-head declares loop variables with let or const',
] as const;

/** Indices into NOT_LIFTABLE. */
export const Why = { returns: 0, awaits: 1, declaresVar: 2, jumpsOut: 3, forDeclares: 4 } as const;

/** What the rewrite needs to turn a loop into a lift call. */
export interface LoopShape {
  /** Names of the loop variables, in order of first assignment. */
  carried: string[];
  /** `break` and `continue` statements that leave this loop's body. */
  jumps: (BreakStatement | ContinueStatement)[];
}

const isLoop = (n: Node): boolean =>
  n.type === 'WhileStatement' || n.type === 'DoWhileStatement' || n.type === 'ForStatement' || n.type === 'ForInStatement' || n.type === 'ForOfStatement';

/** The parts of a loop that run on every iteration (a `for` loop's init runs once, before). */
function iterated(loop: LiftableLoop): Node[] {
  if (loop.type === 'ForStatement') return [loop.test, loop.update, loop.body].filter((n): n is NonNullable<typeof n> => n != null);
  return [loop.test, loop.body];
}

/** Why `loop` cannot become closures, or its shape. `label`: the label written on it, if any. */
export function loopShape(loop: LiftableLoop, label: string | undefined, info: ScopeInfo): LoopShape | { why: number } {
  if (loop.type === 'ForStatement' && loop.init?.type === 'VariableDeclaration' && loop.init.kind !== 'var') return { why: Why.forDeclares };
  const jumps: (BreakStatement | ContinueStatement)[] = [];
  let why: number | undefined;
  /** `inLoop`/`inSwitch`: inside a nested loop or switch, which plain break/continue target. */
  const visit = (n: Node, inLoop: boolean, inSwitch: boolean, labels: ReadonlySet<string>): void => {
    if (why !== undefined || isFunctionNode(n)) return;
    switch (n.type) {
      case 'ReturnStatement': why = Why.returns; return;
      case 'AwaitExpression': case 'YieldExpression': why = Why.awaits; return;
      case 'ForOfStatement':
        if ((n as import('acorn').ForOfStatement).await) { why = Why.awaits; return; }
        break;
      case 'VariableDeclaration':
        if ((n as import('acorn').VariableDeclaration).kind === 'var') { why = Why.declaresVar; return; }
        break;
      case 'BreakStatement': case 'ContinueStatement': {
        const j = n as BreakStatement | ContinueStatement;
        const target = j.label?.name;
        if (target === undefined ? (n.type === 'BreakStatement' ? inLoop || inSwitch : inLoop) : labels.has(target)) return;
        if (target === undefined || target === label) jumps.push(j);
        else why = Why.jumpsOut;
        return;
      }
      case 'LabeledStatement': {
        const l = n as LabeledStatement;
        visit(l.body, inLoop, inSwitch, new Set([...labels, l.label.name]));
        return;
      }
      case 'SwitchStatement':
        forEachChild(n, (c) => visit(c, inLoop, true, labels));
        return;
      default:
        if (isLoop(n)) {
          forEachChild(n, (c) => visit(c, true, false, labels));
          return;
        }
    }
    forEachChild(n, (c) => visit(c, inLoop, inSwitch, labels));
  };
  for (const part of iterated(loop)) visit(part, false, false, new Set());
  if (why !== undefined) return { why };
  return { carried: loopVariables(loop, info), jumps };
}

/**
 * Variables the loop assigns (anywhere in its test, update and body, closures included:
 * they run during the loop) that are declared outside its body, in order of first assignment.
 */
function loopVariables(loop: LiftableLoop, info: ScopeInfo): string[] {
  const body = loop.body;
  const names: string[] = [];
  const note = (id: Identifier): void => {
    const b = info.references.get(id);
    if (b === undefined) return;
    const inside = b !== null && b.id.start >= body.start && b.id.end <= body.end;
    if (!inside && b?.kind !== 'const' && !names.includes(id.name)) names.push(id.name);
  };
  const visit = (n: Node): void => {
    switch (n.type) {
      case 'AssignmentExpression':
        patternNames((n as import('acorn').AssignmentExpression).left as Pattern).forEach(note);
        break;
      case 'UpdateExpression': {
        const arg = (n as import('acorn').UpdateExpression).argument;
        if (arg.type === 'Identifier') note(arg);
        break;
      }
      case 'ForInStatement': case 'ForOfStatement': {
        const left = (n as import('acorn').ForInStatement).left;
        if (left.type !== 'VariableDeclaration') patternNames(left as Pattern).forEach(note);
        break;
      }
      default: break;
    }
    forEachChild(n, visit);
  };
  iterated(loop).forEach(visit);
  return names;
}
