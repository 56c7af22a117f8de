/**
 * Ingress class: picks the Ingresses this controller serves.
 *
 * An Ingress is ours when its class, from `spec.ingressClassName` or else the
 * legacy `kubernetes.io/ingress.class` annotation, is the configured class
 * (default `portcullis`), and the IngressClass of that name, if it exists,
 * names our controller. An Ingress without a class is ours when that
 * IngressClass exists, names our controller and carries
 * `ingressclass.kubernetes.io/is-default-class: "true"`.
 *
 * Matching by class name (as Kong's controller does with --ingress-class)
 * rather than by any class naming our controller lets several installations
 * share a cluster, one class each. A missing IngressClass object is accepted
 * so that a manifest folder works without one.
 */
import { addProblem, type Processor } from '../context.js';
import { annotation, refOf, str } from '../read.js';

export const DEFAULT_CLASS_ANNOTATION = 'ingressclass.kubernetes.io/is-default-class';
export const LEGACY_CLASS_ANNOTATION = 'kubernetes.io/ingress.class';

export const ingressClassProcessor: Processor = {
  name: 'ingress-class',
  run(ctx) {
    const { ingressClass: className, controllerName } = ctx.options;
    const ingressClass = ctx.index.ingressClasses.get(className);
    const controller = str(ingressClass?.spec?.controller);
    const usable = ingressClass === undefined || controller === controllerName;
    if (!usable) {
      addProblem(
        ctx,
        'INGRESS_CLASS_CONTROLLER_MISMATCH',
        `IngressClass "${className}" names controller "${controller ?? ''}", not "${controllerName}"; its Ingresses are not served`,
        [refOf('IngressClass', ingressClass)],
      );
    }

    const defaults = [...ctx.index.ingressClasses.values()].filter(
      (c) => annotation(c, DEFAULT_CLASS_ANNOTATION) === 'true',
    );
    ctx.classIsDefault = usable && ingressClass !== undefined && defaults.includes(ingressClass);
    if (ctx.classIsDefault && defaults.length > 1) {
      addProblem(
        ctx,
        'INGRESS_CLASS_MULTIPLE_DEFAULTS',
        `IngressClasses ${defaults.map((c) => `"${c.metadata.name}"`).join(', ')} are all marked default; Ingresses without a class are served here and may be served by other controllers too`,
        defaults.map((c) => refOf('IngressClass', c)),
      );
    }

    for (const ingress of ctx.index.ingresses) {
      const field = str(ingress.spec?.ingressClassName) || undefined;
      const legacy = annotation(ingress, LEGACY_CLASS_ANNOTATION) || undefined;
      if (field !== undefined && legacy !== undefined && field !== legacy) {
        if (field === className || legacy === className) {
          addProblem(
            ctx,
            'INGRESS_CLASS_AMBIGUOUS',
            `spec.ingressClassName "${field}" and annotation ${LEGACY_CLASS_ANNOTATION} "${legacy}" disagree; the Ingress is not served`,
            [refOf('Ingress', ingress)],
          );
        }
        continue;
      }
      const name = field ?? legacy;
      if (name === undefined ? ctx.classIsDefault : name === className && usable) ctx.ingresses.push(ingress);
    }
  },
};
