// A graphql-inspector diff rule (--rule): removing a field, argument, input field or enum value
// that the old schema marked @deprecated is not breaking; the deprecation was the warning.
// (The bundled suppressRemovalOfDeprecatedField also lets any removed type through and skips
// arguments, so it is not used.)
"use strict";
const { isEnumType, isInputObjectType, isInterfaceType, isObjectType } = require("graphql");

function oldElement(change, schema) {
  const [typeName, member, argument] = change.path.split(".");
  const type = schema.getType(typeName);
  switch (change.type) {
    case "FIELD_REMOVED":
      return (isObjectType(type) || isInterfaceType(type)) && type.getFields()[member];
    case "FIELD_ARGUMENT_REMOVED": {
      const field = (isObjectType(type) || isInterfaceType(type)) && type.getFields()[member];
      return field && field.args.find((arg) => arg.name === argument);
    }
    case "INPUT_FIELD_REMOVED":
      return isInputObjectType(type) && type.getFields()[member];
    case "ENUM_VALUE_REMOVED":
      return isEnumType(type) && type.getValue(member);
    default:
      return undefined;
  }
}

module.exports = function deprecatedRemovals({ changes, oldSchema }) {
  return changes.map((change) => {
    const element = change.path && change.criticality.level === "BREAKING" && oldElement(change, oldSchema);
    if (!element || element.deprecationReason == null) {
      return change;
    }
    return { ...change, criticality: { ...change.criticality, level: "DANGEROUS" } };
  });
};
