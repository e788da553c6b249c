/**
 * Parsing for the source transforms: acorn (latest ECMAScript, modules) extended with
 * decorator syntax (`@jit`, `@jit({...})`, `@k.jit`), which acorn does not parse yet and which
 * some pipelines leave in place (Vite's TypeScript stripping keeps decorators as written).
 */
import { Parser, TokenType, type Options, type Program } from 'acorn';

/** The decorators acorn records on class elements and classes when this plugin parses them. */
export interface Decorator {
  type: 'Decorator';
  start: number;
  end: number;
  expression: import('acorn').Expression;
}

// acorn's internal parser methods are not part of its typings: the plugin reaches them
// through this loose view, in this file only.
type Internal = {
  type: TokenType;
  pos: number;
  start: number;
  next(): void;
  finishToken(type: TokenType): void;
  startNode(): Record<string, unknown>;
  finishNode<T>(node: Record<string, unknown>, type: string): T;
  parseExprSubscripts(refDestructuringErrors: unknown, forInit: boolean): unknown;
};

const TokenTypeCtor = TokenType as unknown as new (label: string, conf: { startsExpr: boolean }) => TokenType;
const at = new TokenTypeCtor('@', { startsExpr: true });

function attach(node: unknown, decorators: Decorator[]): void {
  if (decorators.length === 0 || node === null || typeof node !== 'object') return;
  const n = node as { type?: string; declaration?: unknown; decorators?: Decorator[] };
  // `@dec export class X {}`: the decorators belong to the exported class.
  const target = n.type === 'ExportNamedDeclaration' || n.type === 'ExportDefaultDeclaration' ? (n.declaration as typeof n) : n;
  if (target) target.decorators = [...decorators, ...(target.decorators ?? [])];
}

/** What `parse` reads, with the decorators written before it (if any) attached. */
function decorated(parser: { parseDecorators(): Decorator[] }, parse: () => unknown): unknown {
  if ((parser as unknown as Internal).type !== at) return parse();
  const decorators = parser.parseDecorators();
  const node = parse();
  attach(node, decorators);
  return node;
}

function decoratorPlugin(Base: typeof Parser): typeof Parser {
  const Extended = class extends (Base as unknown as new (...args: unknown[]) => Record<string, (...a: unknown[]) => unknown>) {
    parseDecorators(): Decorator[] {
      const self = this as unknown as Internal;
      const list: Decorator[] = [];
      while (self.type === at) {
        const node = self.startNode();
        self.next();
        // `@name`, `@a.b`, `@name(args)` and `@(expression)`: a member/call chain.
        node.expression = self.parseExprSubscripts(null, false);
        list.push(self.finishNode<Decorator>(node, 'Decorator'));
      }
      return list;
    }

    getTokenFromCode(code: unknown): unknown {
      if (code === 64) {
        const self = this as unknown as Internal;
        ++self.pos;
        return self.finishToken(at);
      }
      return super.getTokenFromCode!(code);
    }

    parseStatement(...args: unknown[]): unknown {
      return decorated(this, () => super.parseStatement!(...args));
    }

    parseExprAtom(...args: unknown[]): unknown {
      return decorated(this, () => super.parseExprAtom!(...args));
    }

    parseClassElement(...args: unknown[]): unknown {
      return decorated(this, () => super.parseClassElement!(...args));
    }

    shouldParseExportStatement(): unknown {
      // `export @dec class X {}`
      return (this as unknown as Internal).type === at || super.shouldParseExportStatement!();
    }
  };
  return Extended as unknown as typeof Parser;
}

const DecoratorParser = Parser.extend(decoratorPlugin);

/** Parses a module (or, with `script`, a script) the way the source transforms read it. */
export function parseModule(code: string, sourceType: 'module' | 'script' = 'module'): Program {
  const options: Options = { ecmaVersion: 'latest', sourceType, allowHashBang: true };
  return DecoratorParser.parse(code, options);
}

/** The position acorn reports in a syntax error, if any. */
export function errorPosition(error: unknown): { line: number; column: number } | undefined {
  const loc = (error as { loc?: { line: number; column: number } } | null)?.loc;
  return loc && typeof loc.line === 'number' ? { line: loc.line, column: loc.column + 1 } : undefined;
}
