"""The mia.js rule engine (core.validation.validator): every rule accepts and rejects with mia's exact entries.

Messages are compared character for character with mia.js (spec 3.4), including the misspelled
``MinValueUnderachived``; deliberate deviations are asserted as such.
"""
from __future__ import annotations

import copy
import re
from datetime import UTC, datetime

import pytest

from core.errors import StartupError, ValidationError
from core.validation.validator import CompiledSchema, FieldInfo, RuleDefinitionError, compile_rules


def run(rules, values, **options):
    return compile_rules(rules, where="test").validate(values, **options)


def errors_of(rules, values, **options):
    with pytest.raises(ValidationError) as caught:
        run(rules, values, **options)
    assert caught.value.status == 400
    return caught.value.errors


def only_error(rules, values, **options):
    errors = errors_of(rules, values, **options)
    assert len(errors) == 1, errors
    return errors[0]


def E(code, field, msg):
    return {"code": code, "id": field, "msg": msg}


# ------------------------------------------------------------------------------------- types
class TestString:
    def test_accepts_strings_and_converts_numbers_and_booleans_js_style(self):
        rules = {"a": {"type": str}, "b": {"type": "String"}, "c": {"type": "string"}, "d": {"type": str}}
        assert run(rules, {"a": "x", "b": 5, "c": True, "d": 5.0}) == {"a": "x", "b": "5", "c": "true", "d": "5"}

    @pytest.mark.parametrize(("value", "given"), [({"x": 1}, "object"), (None, "object"), (["a"], "object")])
    def test_rejects_objects_lists_and_null(self, value, given):
        assert only_error({"name": {"type": str}}, {"name": value}) == E(
            "UnexpectedType", "name", f"name is unexpected type. {given} given string expected")


class TestNumber:
    @pytest.mark.parametrize(("value", "expected"), [
        ("5", 5), ("5.5", 5.5), ("1e3", 1000.0), ("-2", -2), (" 7 ", 7), (["5"], 5), (3, 3), (2.5, 2.5)])
    def test_accepts_numbers_and_numeric_strings(self, value, expected):
        out = run({"n": {"type": "Number"}}, {"n": value})
        assert out == {"n": expected} and type(out["n"]) is type(expected)

    @pytest.mark.parametrize(("value", "given"), [
        ("", "string"), ("  ", "string"), ("0x10", "string"), ("abc", "string"), ("1,5", "string"),
        ("Infinity", "string"), (True, "boolean"), (None, "object"), (["1", "2"], "object"), ([], "object"),
        ({}, "object")])
    def test_rejects_non_numbers_without_the_nan_quirk(self, value, given):
        assert only_error({"n": {"type": "Number"}}, {"n": value}) == E(
            "UnexpectedType", "n", f"n is unexpected type. {given} given number expected")

    def test_python_float_is_number(self):
        assert run({"n": {"type": float}}, {"n": "2"}) == {"n": 2}


class TestIntegers:
    def test_python_int_accepts_integral_strings_and_floats(self):
        out = run({"a": {"type": int}, "b": {"type": int}, "c": {"type": int}}, {"a": "5", "b": 6.0, "c": "1e2"})
        assert out == {"a": 5, "b": 6, "c": 100} and all(type(v) is int for v in out.values())

    def test_python_int_rejects_fractions_naming_integer(self):
        assert only_error({"a": {"type": int}}, {"a": "5.5"}) == E(
            "UnexpectedType", "a", "a is unexpected type. string given integer expected")

    def test_mia_integer_works_for_query_strings(self):
        assert run({"page": {"type": "Integer"}}, {"page": "7"}) == {"page": 7}

    def test_mia_integer_rejects_fractions(self):
        assert only_error({"page": {"type": "Integer"}}, {"page": 1.5}) == E(
            "UnexpectedType", "page", "page is unexpected type. number given integer expected")

    def test_safeinteger_range(self):
        rules = {"s": {"type": "SafeInteger"}}
        assert run(rules, {"s": str(2**53 - 1)}) == {"s": 2**53 - 1}
        assert only_error(rules, {"s": 2**53}) == E(
            "UnexpectedType", "s", "s is unexpected type. number given safeinteger expected")


class TestBoolean:
    @pytest.mark.parametrize(("value", "expected"), [
        (True, True), (False, False), ("true", True), ("FALSE", False), ("True", True)])
    def test_accepts_bools_and_true_false_strings(self, value, expected):
        assert run({"flag": {"type": "Boolean"}}, {"flag": value}) == {"flag": expected}

    @pytest.mark.parametrize(("value", "given"), [("1", "string"), (1, "number"), ("yes", "string"), (None, "object")])
    def test_rejects_everything_else(self, value, given):
        assert only_error({"flag": {"type": bool}}, {"flag": value}) == E(
            "UnexpectedType", "flag", f"flag is unexpected type. {given} given boolean expected")


class TestDates:
    @pytest.mark.parametrize("value", ["2015-07-14T12:00:00", "2015-07-14", "2015-07-14T12:00:00Z",
                                       "Tue, 14 Jul 2015 12:00:00 GMT", 1436875200000])
    def test_mia_date_keeps_the_original_value(self, value):
        assert run({"d": {"type": "Date"}}, {"d": value}) == {"d": value}

    @pytest.mark.parametrize(("value", "given"), [("not a date", "string"), (True, "boolean"), (None, "object")])
    def test_mia_date_rejects_unparseable_values(self, value, given):
        assert only_error({"d": {"type": "Date"}}, {"d": value}) == E(
            "UnexpectedType", "d", f"d is unexpected type. {given} given date expected")

    def test_mia_date_with_convert_becomes_a_datetime(self):
        assert run({"d": {"type": "Date", "convert": "trim"}}, {"d": " 2015-07-14T12:00:00+02:00 "}) == {
            "d": datetime.fromisoformat("2015-07-14T12:00:00+02:00")}

    def test_python_datetime_type_converts_to_aware_datetimes(self):
        rules = {"a": {"type": datetime}, "b": {"type": datetime}, "c": {"type": datetime}}
        when = datetime(2015, 7, 14, 12, tzinfo=UTC)
        assert run(rules, {"a": "2015-07-14T12:00:00", "b": 1436875200000, "c": datetime(2015, 7, 14, 12)}) == {
            "a": when, "b": when, "c": when}

    def test_python_datetime_type_rejects_garbage(self):
        assert only_error({"a": {"type": datetime}}, {"a": "tomorrow"}) == E(
            "UnexpectedType", "a", "a is unexpected type. string given date expected")


class TestArrayAndObjectTypes:
    def test_array_accepts_lists_and_wraps_a_single_query_value(self):
        rules = {"a": {"type": list}, "b": {"type": "Array"}, "c": {"type": "array"}}
        assert run(rules, {"a": ["1", "2"], "b": "1", "c": ""}) == {"a": ["1", "2"], "b": ["1"], "c": []}

    def test_array_rejects_objects(self):
        assert only_error({"a": {"type": "Array"}}, {"a": {"x": 1}}) == E(
            "UnexpectedType", "a", "a is unexpected type. object given array expected")

    def test_object_accepts_dicts_and_copies_them(self):
        given = {"meta": {"deep": {"x": [1]}}}
        out = run({"meta": {"type": dict}}, given)
        assert out == given
        out["meta"]["deep"]["x"].append(2)
        assert given == {"meta": {"deep": {"x": [1]}}}

    def test_object_rejects_scalars(self):
        assert only_error({"meta": {"type": "Object"}}, {"meta": "x"}) == E(
            "UnexpectedType", "meta", "meta is unexpected type. string given object expected")


class TestTimestampAndAddresses:
    def test_timestamp_accepts_ten_digit_strings(self):
        assert run({"t": {"type": "Timestamp"}}, {"t": "1436875200"}) == {"t": 1436875200}

    @pytest.mark.parametrize(("value", "given"), [("143687520", "string"), (1436875200, "number"), (None, "object")])
    def test_timestamp_rejects_others(self, value, given):
        assert only_error({"t": {"type": "Timestamp"}}, {"t": value}) == E(
            "UnexpectedType", "t", f"t is unexpected type. {given} given timestamp expected")

    @pytest.mark.parametrize(("type_name", "value"), [
        ("IP", "10.0.0.1"), ("IP", "::1"), ("IPv4", "192.168.0.255"), ("IPv6", "2001:db8::1"), ("IPv6", "::"),
        ("CIDR", "10.0.0.0/8"), ("CIDR", "2001:db8::/32"), ("CIDRv4", "1.2.3.4/32"), ("CIDRv6", "fe80::/10")])
    def test_addresses_accepted(self, type_name, value):
        assert run({"addr": {"type": type_name}}, {"addr": value}) == {"addr": value}

    @pytest.mark.parametrize(("type_name", "value"), [
        ("IP", "300.1.1.1"), ("IP", "x::y"), ("IPv4", "::1"), ("IPv4", "1.2.3"), ("IPv6", "1.2.3.4"),
        ("IPv6", "2001:db8::g"), ("CIDR", "10.0.0.1"), ("CIDR", "10.0.0.0/33"), ("CIDRv4", "::/0"),
        ("CIDRv6", "10.0.0.0/8")])
    def test_addresses_rejected(self, type_name, value):
        assert only_error({"addr": {"type": type_name}}, {"addr": value}) == E(
            "UnexpectedType", "addr", f"addr is unexpected type. string given {type_name.lower()} expected")

    def test_addresses_must_be_strings(self):
        assert only_error({"addr": {"type": "ip"}}, {"addr": 1}) == E(
            "UnexpectedType", "addr", "addr is unexpected type. number given ip expected")


# ------------------------------------------------------------------------------------- single-value rules
class TestLengths:
    def test_min_length(self):
        rules = {"name": {"type": str, "minLength": 3}}
        assert run(rules, {"name": "abc"}) == {"name": "abc"}
        assert only_error(rules, {"name": "ab"}) == E(
            "MinLengthUnderachieved", "name", "name length is less than 3 chars")

    def test_max_length(self):
        rules = {"name": {"type": str, "maxLength": 3}}
        assert run(rules, {"name": "abc"}) == {"name": "abc"}
        assert only_error(rules, {"name": "abcd"}) == E(
            "MaxLengthExceeded", "name", "name length is more than 3 chars")

    def test_numbers_have_no_length(self):
        assert run({"n": {"type": "Number", "minLength": 3, "maxLength": 1}}, {"n": "12"}) == {"n": 12}


class TestMinMax:
    def test_min(self):
        rules = {"age": {"type": "Number", "min": 18}}
        assert run(rules, {"age": "18"}) == {"age": 18}
        assert only_error(rules, {"age": 17}) == E("MinValueUnderachived", "age", "age value is less than 18")

    def test_max(self):
        rules = {"age": {"type": "Number", "max": 99.5}}
        assert run(rules, {"age": 99.5}) == {"age": 99.5}
        assert only_error(rules, {"age": "100"}) == E("MaxValueExceeded", "age", "age value is more than 99.5")

    def test_strings_are_not_range_checked(self):
        assert run({"age": {"min": 18}}, {"age": "5"}) == {"age": "5"}


class TestAllow:
    def test_allow_is_case_insensitive(self):
        rules = {"flavour": {"type": str, "allow": ["Cookies and Cream", "vanilla"]}}
        assert run(rules, {"flavour": "VANILLA"}) == {"flavour": "VANILLA"}
        assert run(rules, {"flavour": "cookies AND cream"}) == {"flavour": "cookies AND cream"}

    def test_allow_rejects_with_the_list(self):
        assert only_error({"flavour": {"type": str, "allow": ["cookies and cream", "vanilla", "strawberry"]}},
                          {"flavour": "chocolate"}) == E(
            "ValueNotAllowed", "flavour", "flavour value 'chocolate' is not allowed. Use one of the following "
                                          "values: cookies and cream,vanilla,strawberry")

    def test_allow_uses_loose_number_string_equality(self):
        assert run({"a": {"allow": [1, 2]}, "b": {"type": "Number", "allow": ["1", "2"]}}, {"a": "1", "b": "2"}) == {
            "a": "1", "b": 2}
        assert only_error({"a": {"type": "Number", "allow": [1, 2]}}, {"a": "3"}) == E(
            "ValueNotAllowed", "a", "a value '3' is not allowed. Use one of the following values: 1,2")

    def test_booleans_skip_allow(self):
        assert run({"b": {"type": bool, "allow": ["x"]}}, {"b": "true"}) == {"b": True}


class TestAllowMultiple:
    def test_comma_separated_values_from_the_list(self):
        rules = {"fields": {"type": str, "allow": ["Name", "age", 3], "allowMultiple": True}}
        assert run(rules, {"fields": "name,AGE,3"}) == {"fields": "name,AGE,3"}
        assert run(rules, {"fields": "age"}) == {"fields": "age"}

    def test_blank_after_comma_is_rejected(self):
        assert only_error({"fields": {"type": str, "allow": ["name", "age"], "allowMultiple": True}},
                          {"fields": "name, age"}) == E(
            "ValueNotAllowed", "fields", "fields value 'name, age' is not allowed. Use one or more of the following "
                                         "string values separated by comma without blank spaces: name,age")


class TestDeny:
    def test_deny(self):
        rules = {"user": {"type": str, "deny": ["Admin", "root"]}}
        assert run(rules, {"user": "alice"}) == {"user": "alice"}
        assert only_error(rules, {"user": "ADMIN"}) == E(
            "ValueNotAllowed", "user", "user value 'ADMIN' is not allowed. Do not use one of the following values: "
                                       "Admin,root")

    def test_deny_numbers_loosely(self):
        assert only_error({"n": {"type": "Number", "deny": ["0"]}}, {"n": "0"}) == E(
            "ValueNotAllowed", "n", "n value '0' is not allowed. Do not use one of the following values: 0")


class TestMatch:
    def test_js_literal_string_with_flags(self):
        rules = {"code": {"type": str, "match": "/^[a-z]{2}-[a-z]{2}$/i"}}
        assert run(rules, {"code": "EN-gb"}) == {"code": "EN-gb"}
        assert only_error(rules, {"code": "english"}) == E(
            "PatternMismatch", "code", "code does not match pattern /^[a-z]{2}-[a-z]{2}$/i")

    def test_compiled_pattern_is_unanchored_search(self):
        rules = {"code": {"match": re.compile(r"[a-z]{2}-[a-z]{2}", re.IGNORECASE | re.MULTILINE)}}
        assert run(rules, {"code": "xx DE-de yy"}) == {"code": "xx DE-de yy"}
        assert only_error(rules, {"code": "d-e"}) == E(
            "PatternMismatch", "code", "code does not match pattern /[a-z]{2}-[a-z]{2}/im")

    def test_plain_string_pattern_and_slash_escaping(self):
        assert only_error({"p": {"match": "^a/b$"}}, {"p": "ab"}) == E(
            "PatternMismatch", "p", "p does not match pattern /^a\\/b$/")
        assert run({"p": {"match": r"^\d+$", "type": "Number"}}, {"p": "12"}) == {"p": 12}

    def test_numbers_are_matched_as_strings(self):
        assert only_error({"v": {"type": "Number", "match": "^[0-9]+$"}}, {"v": "1.5"}) == E(
            "PatternMismatch", "v", "v does not match pattern /^[0-9]+$/")


class TestConvert:
    @pytest.mark.parametrize(("convert", "expected"), [
        ("lower", "  mixed case  "), ("upper", "  MIXED CASE  "), ("trim", "MiXed Case"),
        (["trim", "upper"], "MIXED CASE"), (["lower", "trim"], "mixed case")])
    def test_conversions_in_list_order(self, convert, expected):
        assert run({"s": {"type": str, "convert": convert}}, {"s": "  MiXed Case  "}) == {"s": expected}

    def test_match_and_allow_see_the_value_before_convert(self):
        rules = {"s": {"type": str, "match": "^[A-Z]+$", "convert": "lower"}}
        assert run(rules, {"s": "ABC"}) == {"s": "abc"}
        assert only_error(rules, {"s": "abc"})["code"] == "PatternMismatch"

    def test_convert_only_touches_strings(self):
        assert run({"n": {"type": "Number", "convert": "upper"}}, {"n": "5"}) == {"n": 5}


class TestPrecedence:
    def test_type_error_comes_before_min_length(self):
        assert only_error({"n": {"type": "Number", "minLength": 3}}, {"n": "ab"}) == E(
            "UnexpectedType", "n", "n is unexpected type. string given number expected")

    def test_first_failing_rule_wins(self):
        assert only_error({"s": {"type": str, "minLength": 5, "allow": ["abcdef"], "match": "^z"}}, {"s": "abc"}) == E(
            "MinLengthUnderachieved", "s", "s length is less than 5 chars")

    def test_deny_overrides_an_earlier_error(self):
        assert only_error({"s": {"type": str, "minLength": 5, "deny": ["abc"]}}, {"s": "abc"}) == E(
            "ValueNotAllowed", "s", "s value 'abc' is not allowed. Do not use one of the following values: abc")

    def test_deny_overrides_a_type_error(self):
        assert only_error({"n": {"type": "Number", "deny": ["abc"]}}, {"n": "abc"})["code"] == "ValueNotAllowed"

    def test_match_and_required_do_not_replace_deny(self):
        assert only_error({"s": {"type": str, "deny": [""], "match": "x", "required": True}}, {"s": ""})["msg"] == (
            "s value '' is not allowed. Do not use one of the following values: ")


# ------------------------------------------------------------------------------------- required, default, nullable
class TestRequired:
    @pytest.mark.parametrize("values", [{}, {"key": None}, {"key": ""}, {"key": []}])
    def test_missing_values(self, values):
        assert only_error({"key": {"required": True}}, values) == E(
            "MissingRequiredParameter", "key", "key is required but invalid value or no value given")

    @pytest.mark.parametrize("value", [0, False, "0", "x", [0]])
    def test_zero_and_false_are_values(self, value):
        assert run({"key": {"required": True}}, {"key": value}) == {"key": value}

    def test_empty_query_value_for_typed_params(self):
        assert only_error({"q": {"type": str, "required": True}}, {"q": ""})["code"] == "MissingRequiredParameter"
        assert only_error({"q": {"type": list, "required": True}}, {"q": ""})["code"] == "MissingRequiredParameter"

    def test_null_for_a_typed_field_is_a_type_error(self):
        assert only_error({"q": {"type": str, "required": True}}, {"q": None})["code"] == "UnexpectedType"

    def test_not_required_when_partial(self):
        assert run({"key": {"required": True}, "x": {}}, {"x": 1}, partial=True) == {"x": 1}

    def test_waived_for_fields_that_cannot_be_set(self):
        assert run({"key": {"required": True, "public": {"set": False, "get": True}}}, {"key": "x"}) == {}


class TestDefault:
    def test_value_default(self):
        rules = {"status": {"type": str, "default": "inactive"}}
        assert run(rules, {}) == {"status": "inactive"}
        assert run(rules, {"status": "active"}) == {"status": "active"}

    def test_empty_string_does_not_get_the_default(self):
        assert run({"a": {"default": "x"}}, {"a": ""}) == {"a": ""}

    def test_callable_default_runs_per_validation(self):
        calls = []
        schema = compile_rules({"n": {"type": int, "default": lambda: calls.append(1) or len(calls)}})
        assert schema.validate({}) == {"n": 1}
        assert schema.validate({}) == {"n": 2}

    def test_defaults_are_validated(self):
        assert only_error({"n": {"type": "Number", "default": "x"}}, {}) == E(
            "UnexpectedType", "n", "n is unexpected type. string given number expected")

    def test_dict_and_list_defaults_are_fresh_copies(self):
        schema = compile_rules({"tags": {"type": list, "default": ["a"]}, "meta": {"type": dict, "default": {"k": []}}})
        first = schema.validate({})
        first["tags"].append("b")
        first["meta"]["k"].append(1)
        assert schema.validate({}) == {"tags": ["a"], "meta": {"k": []}}

    def test_unusable_default(self):
        assert only_error({"a": {"default": {1, 2}}}, {}) == E(
            "UnexpectedDefaultValue", "a", "a default value is faulty. object given but not expected")
        assert only_error({"a": {"default": None}}, {}) == E(
            "UnexpectedDefaultValue", "a", "a default value is faulty. object given but not expected")

    def test_no_defaults_when_partial(self):
        assert run({"status": {"default": "inactive"}, "tags": [{"a": {}}]}, {}, partial=True) == {}


class TestNullable:
    def test_nullable_keeps_none(self):
        rules = {"expires": {"type": "Date", "nullable": True, "required": True}}
        assert run(rules, {"expires": None}) == {"expires": None}
        assert run({"e": {"nullable": True, "default": None}}, {}) == {"e": None}

    def test_none_without_nullable_is_rejected(self):
        assert only_error({"expires": {"type": "Date"}}, {"expires": None}) == E(
            "UnexpectedType", "expires", "expires is unexpected type. object given date expected")


# ------------------------------------------------------------------------------------- virtual, extend, public
def culture_schema():
    """The device model's culture (spec generic 7.1): a write-only code derives language and region."""
    two_letters = {"type": str, "minLength": 2, "maxLength": 2, "required": True, "public": {"set": False, "get": True}}
    return {
        "culture": {
            "language": dict(two_letters),
            "region": dict(two_letters),
            "code": {"type": str, "minLength": 5, "maxLength": 5, "match": "/[a-zA-Z]{2}-[a-zA-Z]{2}/i",
                     "default": "de-de", "public": {"set": True, "get": False},
                     "virtual": lambda code: {"culture.language": code[:2].lower(),
                                              "culture.region": code[3:5].lower()}},
        }
    }


class TestVirtual:
    def test_culture_code_derives_language_and_region(self):
        assert run(culture_schema(), {"culture": {"code": "EN-GB"}}) == {"culture": {"language": "en", "region": "gb"}}

    def test_virtual_default_applies(self):
        assert run(culture_schema(), {}) == {"culture": {"language": "de", "region": "de"}}

    def test_read_only_input_is_stripped_so_the_virtual_wins(self):
        assert run(culture_schema(), {"culture.code": "en-gb", "culture.language": "fr"}) == {
            "culture": {"language": "en", "region": "gb"}}

    def test_virtual_inputs_are_validated_themselves(self):
        assert only_error(culture_schema(), {"culture": {"code": "english"}}) == E(
            "MaxLengthExceeded", "culture.code", "culture.code length is more than 5 chars")

    def test_no_virtual_defaults_under_partial_or_query(self):
        assert run(culture_schema(), {}, partial=True) == {}
        assert run(culture_schema(), {}, query=True) == {}  # code gets its default, but nothing is derived

    def test_this_replaces_the_value_and_set_form(self):
        rules = {"app": {"id": {"type": str, "virtual": {"set": lambda v: {"this": v.replace(" ", "", 1)}}}}}
        assert run(rules, {"app": {"id": "my app id"}}) == {"app": {"id": "myapp id"}}

    def test_given_values_win_and_undeclared_outputs_are_dropped(self):
        rules = {"a": {"virtual": lambda v: {"b": f"from {v}", "c": "x", "nested": {"d": 1}}},
                 "b": {"type": str}, "nested": {"d": {"type": "Number"}, "e": {}}}
        assert run(rules, {"a": 1}) == {"a": 1, "b": "from 1", "nested": {"d": 1}}
        assert run(rules, {"a": 1, "b": "given"}) == {"a": 1, "b": "given", "nested": {"d": 1}}


class TestExtend:
    @staticmethod
    def scores(value):
        count = len(value) if isinstance(value, dict) else 1
        return {str(i): {"type": "Number", "default": 0} for i in range(1, count + 2)}

    def test_top_level_extend_returning_fields(self):
        assert run({"scores": {"extend": self.scores}}, {"scores": {"1": "5"}}) == {"scores": {"1": 5, "2": 0}}

    def test_nested_extend_with_dotted_errors(self):
        rules = {"profile": {"name": {"type": str}, "scores": {"extend": self.scores}}}
        assert run(rules, {"profile": {"name": "x"}}) == {"profile": {"name": "x", "scores": {"1": 0, "2": 0}}}
        assert only_error(rules, {"profile.scores.2": "x", "profile.scores.1": 1}) == E(
            "UnexpectedType", "profile.scores.2", "profile.scores.2 is unexpected type. string given number expected")

    def test_extend_returning_rules_per_value(self):
        def rules_for(value):
            return {"type": "Number", "max": 10} if str(value).isdigit() else {"type": str, "allow": ["all"]}
        rules = {"filter": {"limit": {"extend": rules_for}}}
        assert run(rules, {"filter": {"limit": "7"}}) == {"filter": {"limit": 7}}
        assert run(rules, {"filter": {"limit": "ALL"}}) == {"filter": {"limit": "ALL"}}
        assert only_error(rules, {"filter": {"limit": "11"}}) == E(
            "MaxValueExceeded", "filter.limit", "filter.limit value is more than 10")


class TestPublic:
    def test_set_false_strips_input_but_default_applies(self):
        rules = {"status": {"default": "new", "public": {"set": False, "get": True}}}
        assert run(rules, {"status": "hacked"}) == {"status": "new"}

    def test_query_mode_keeps_set_false_input(self):
        rules = {"status": {"public": {"set": False, "get": True}}}
        assert run(rules, {"status": "active"}, query=True) == {"status": "active"}

    def test_get_false_hides_but_still_validates(self):
        rules = {"secret": {"type": str, "minLength": 3, "public": {"set": True, "get": False}}, "other": {}}
        assert run(rules, {"secret": "abcd", "other": 1}) == {"other": 1}
        assert only_error(rules, {"secret": "ab"})["code"] == "MinLengthUnderachieved"

    def test_public_false_hides(self):
        assert run({"pw": {"type": str, "public": False}}, {"pw": "x"}) == {}


# ------------------------------------------------------------------------------------- structure
class TestNesting:
    def test_nested_and_dotted_declarations_are_equivalent(self):
        nested = {"user": {"name": {"type": str, "required": True}, "age": {"type": "Number"}}}
        dotted = {"user.name": {"type": str, "required": True}, "user.age": {"type": "Number"}}
        for rules in (nested, dotted):
            assert run(rules, {"user": {"name": "a", "age": "3"}}) == {"user": {"name": "a", "age": 3}}
            assert run(rules, {"user.name": "a", "user.age": "3"}) == {"user": {"name": "a", "age": 3}}
            assert only_error(rules, {"user": {"age": 3}}) == E(
                "MissingRequiredParameter", "user.name", "user.name is required but invalid value or no value given")

    def test_mixed_dotted_and_nested_merge(self):
        rules = {"a.b": {"type": str}, "a": {"c": {"type": str}}}
        assert run(rules, {"a": {"c": "2"}, "a.b": "1"}) == {"a": {"b": "1", "c": "2"}}

    def test_fields_named_like_rules(self):
        rules = {"os": {"type": {"type": str, "convert": "lower"}, "version": {"type": str}}}
        assert run(rules, {"os": {"type": "iOS"}}) == {"os": {"type": "ios"}}

    def test_empty_groups_are_left_out(self):
        assert run({"a": {"b": {"type": str}}, "c": {}}, {"a": {}}) == {}


class TestArrays:
    def test_sub_type_converts_elements(self):
        assert run({"ids": {"type": list, "subType": "Number"}}, {"ids": ["1", "2.5"]}) == {"ids": [1, 2.5]}

    def test_sub_type_error_names_the_element(self):
        assert only_error({"ids": {"type": "Array", "subType": "Number"}}, {"ids": ["1", "x"]}) == E(
            "UnexpectedType", "ids[2]", "ids[2] is unexpected type. string given number expected")

    def test_element_length_rules(self):
        assert only_error({"tags": {"type": list, "maxLength": 3}}, {"tags": ["abc", "abcd"]}) == E(
            "MaxLengthExceeded", "tags[2]", "tags[2] length is more than 3 chars")

    def test_element_min_max(self):
        rules = {"ids": {"type": list, "subType": int, "min": 1, "max": 9}}
        assert run(rules, {"ids": ["1", 9]}) == {"ids": [1, 9]}
        assert only_error(rules, {"ids": [5, 0]}) == E("MinValueUnderachived", "ids[2]", "ids[2] value is less than 1")

    def test_element_allow_deny_match_and_convert(self):
        rules = {"groups": {"type": list, "allow": ["Admin", "user"], "deny": ["guest"], "match": "^[a-z]+$",
                            "convert": "lower"}}
        assert run(rules, {"groups": ["admin", "user"]}) == {"groups": ["admin", "user"]}
        assert only_error(rules, {"groups": ["admin", "root"]}) == E(
            "ValueNotAllowed", "groups[2]", "groups[2] value 'root' is not allowed. Use one of the following values: "
                                            "Admin,user")
        assert only_error(rules, {"groups": ["ADMIN"]})["code"] == "PatternMismatch"
        assert only_error(rules, {"groups": ["x", "guest"]})["id"] == "groups[2]"

    def test_query_style_single_value(self):
        assert run({"ids": {"type": list, "subType": "Number"}}, {"ids": "4"}) == {"ids": [4]}


class TestArraysOfDocuments:
    rules = {"items": [{"name": {"type": str, "required": True}, "qty": {"type": int, "default": 1}}]}

    def test_elements_are_validated(self):
        assert run(self.rules, {"items": [{"name": "a"}, {"name": "b", "qty": "3", "junk": 1}]}) == {
            "items": [{"name": "a", "qty": 1}, {"name": "b", "qty": 3}]}

    def test_errors_carry_the_inner_id(self):
        assert errors_of(self.rules, {"items": [{"name": "a"}, {"qty": 2}, {}, {"name": "c", "qty": "x"}]}) == [
            E("MissingRequiredParameter", "name", "name is required but invalid value or no value given"),
            E("UnexpectedType", "qty", "qty is unexpected type. string given integer expected")]

    def test_absent_array_becomes_empty_unless_partial(self):
        assert run(self.rules, {}) == {"items": []}
        assert run(self.rules, {"items": None}) == {"items": []}
        assert run(self.rules, {}, partial=True) == {}

    def test_empty_element_is_validated_as_a_document(self):
        rules = {"items": [{"qty": {"type": int, "default": 1}, "x": {}}]}
        assert run(rules, {"items": [{}]}) == {"items": [{"qty": 1}]}
        assert run({"items": [{"x": {"type": str}}]}, {"items": [{}]}) == {"items": [{}]}

    def test_null_element_and_primitive_elements(self):
        assert only_error(self.rules, {"items": [None]}) == E(
            "UnexpectedType", "items", "items is unexpected type. null given object expected")
        assert run(self.rules, {"items": [5, "x"]}) == {"items": [5, "x"]}

    def test_a_lone_object_is_validated_as_one_document(self):
        assert run(self.rules, {"items": {"name": "a"}}) == {"items": {"name": "a", "qty": 1}}

    def test_scalar_is_a_type_error(self):
        assert only_error(self.rules, {"items": "a"}) == E(
            "UnexpectedType", "items", "items is unexpected type. string given array expected")


class TestFreeForm:
    def test_empty_object_node_copies_key_and_dotted_form_only(self):
        rules = {"meta": {}}
        assert run(rules, {"meta": {"a": 1, "b.c": 2}, "metadata": 3}) == {"meta": {"a": 1, "b": {"c": 2}}}
        assert run(rules, {"meta.x": 1}) == {"meta": {"x": 1}}
        assert run(rules, {"meta": 12}) == {"meta": 12}

    def test_empty_array_node_copies_any_value(self):
        assert run({"list": []}, {"list": [1, {"a": 2}]}) == {"list": [1, {"a": 2}]}
        assert run({"list": []}, {"list": 12}) == {"list": 12}
        assert run({"list": []}, {"list": None}) == {}


class TestSectionInput:
    @pytest.mark.parametrize("values", [None, {}, "text body", ["a"]])
    def test_missing_or_odd_input_is_an_empty_section(self, values):
        rules = {"a": {"default": 1}, "b": {"type": str, "required": True}}
        assert errors_of(rules, values) == [
            E("MissingRequiredParameter", "b", "b is required but invalid value or no value given")]
        assert run({"a": {"default": 1}}, values) == {"a": 1}

    def test_nothing_matched_gives_an_empty_dict(self):
        assert run({"a": {"type": str}}, {"z": 1}) == {}

    def test_undeclared_keys_never_appear(self):
        assert run({"a": {"type": str}, "g": {"x": {}}}, {"a": "1", "b": 2, "g": {"x": 1, "y": 2}, "g.z": 3}) == {
            "a": "1", "g": {"x": 1}}

    def test_input_is_not_mutated(self):
        rules = dict(culture_schema(), tags={"type": list, "subType": str, "convert": "upper"},
                     items=[{"n": {"type": int}, "d": {"default": 0}}], meta={}, **{"x.y": {"type": "Number"}})
        values = {"culture.code": "EN-gb", "culture": {"language": "fr"}, "tags": ["a"], "items": [{"n": "1"}, {}],
                  "meta": {"k.v": [1]}, "x.y": "5", "x": {}}
        before = copy.deepcopy(values)
        out = run(rules, values)
        assert values == before
        assert out == {"culture": {"language": "en", "region": "gb"}, "tags": ["A"], "items": [{"n": 1, "d": 0},
                       {"d": 0}], "meta": {"k": {"v": [1]}}, "x": {"y": 5}}
        out["meta"]["k"]["v"].append(2)
        assert values == before

    def test_every_failing_field_reported_in_schema_order(self):
        rules = {"name": {"type": str, "required": True}, "age": {"type": "Number", "min": 18},
                 "addr": {"city": {"type": str, "minLength": 2}}, "ok": {"type": str}, "mail": {"match": "@"}}
        assert errors_of(rules, {"mail": "x", "addr.city": "B", "age": "12", "ok": "fine"}) == [
            E("MissingRequiredParameter", "name", "name is required but invalid value or no value given"),
            E("MinValueUnderachived", "age", "age value is less than 18"),
            E("MinLengthUnderachieved", "addr.city", "addr.city length is less than 2 chars"),
            E("PatternMismatch", "mail", "mail does not match pattern /@/")]


# ------------------------------------------------------------------------------------- definitions and metadata
class TestRuleDefinitionErrors:
    @pytest.mark.parametrize(("rules", "field", "reason"), [
        ({"a": {"type": "Strng"}}, "a", "unknown type 'Strng'"),
        ({"a": {"type": set}}, "a", "unknown type"),
        ({"a": {"subType": "Nmber"}}, "a", "unknown type 'Nmber'"),
        ({"a": {"allow": "x"}}, "a", "allow must be a list"),
        ({"a": {"deny": 5}}, "a", "deny must be a list"),
        ({"a": {"minLength": "3"}}, "a", "minLength must be a non-negative int"),
        ({"a": {"maxLength": 2.5}}, "a", "maxLength must be a non-negative int"),
        ({"a": {"min": "1"}}, "a", "min must be a number"),
        ({"a": {"match": 5}}, "a", "match must be a str or re.Pattern"),
        ({"a": {"match": "("}}, "a", "not a valid regular expression"),
        ({"a": {"convert": "title"}}, "a", "convert must be"),
        ({"a": {"type": str, "allowed": ["x"]}}, "a", "unknown rule key(s): allowed"),
        ({"a": {"tpye": str}}, "a", "unknown rule key(s): tpye"),
        ({"a": {"required": "yes"}}, "a", "required must be true or false"),
        ({"a": {"public": "no"}}, "a", "public must be"),
        ({"a": {"virtual": "fn"}}, "a", "virtual must be a function"),
        ({"a": {"extend": 1}}, "a", "extend must be a function"),
        ({"a": {"allowMultiple": True}}, "a", "allowMultiple needs an allow list"),
        ({"a": "string"}, "a", "expected a dict"),
        ({"a": [{"x": {}}, {"y": {}}]}, "a", "an array node must be"),
        ({"u": {"n": {"minLength": -1}}}, "u.n", "minLength"),
        ({"list": [{"n": {"type": "x"}}]}, "list[].n", "unknown type 'x'"),
        ({"a.b": {}, "a": {"b": {}}}, "a.b", "declared twice"),
        ({"a..b": {}}, "a..b", "invalid field name"),
    ])
    def test_bad_definitions_name_where_and_field(self, rules, field, reason):
        with pytest.raises(RuleDefinitionError) as caught:
            compile_rules(rules, where="demo-ctrl 1.0 query")
        message = str(caught.value)
        assert message.startswith(f"demo-ctrl 1.0 query: field '{field}': ") and reason in message
        assert caught.value.where == "demo-ctrl 1.0 query" and caught.value.field == field
        assert isinstance(caught.value, StartupError)

    def test_schema_must_be_a_dict(self):
        with pytest.raises(RuleDefinitionError, match="model m"):
            compile_rules(["x"], where="model m")  # type: ignore[arg-type]

    def test_extend_results_are_checked_when_used(self):
        schema = compile_rules({"a": {"extend": lambda v: {"type": "nope"}}}, where="w")
        with pytest.raises(RuleDefinitionError, match="unknown type 'nope'"):
            schema.validate({"a": 1})


class TestFields:
    def test_flattened_descriptors_in_declaration_order(self):
        schema = compile_rules({
            "culture.code": {"type": "String", "required": True, "desc": "culture", "minLength": 5, "maxLength": 5},
            "user": {"age": {"type": int, "min": 1, "max": 2, "default": 1, "nullable": True, "docs": False}},
            "tags": {"type": list, "subType": str, "allow": ["a"], "allowMultiple": True, "deny": ["b"],
                     "match": "/^x/i", "default": list, "description": "tag list"},
            "items": [{"name": {"type": str, "index": True}}],
            "meta": {},
            "id": {"type": str, "unique": True, "index": True, "sparse": True, "indexOptions": {"w": 1},
                   "public": {"set": False, "get": True}, "virtual": lambda v: {}},
            "when": {"type": datetime},
            "dyn": {"extend": lambda v: {}},
        })
        assert isinstance(schema, CompiledSchema)
        fields = schema.fields
        assert all(isinstance(f, FieldInfo) for f in fields)
        assert [f.name for f in fields] == ["culture.code", "user.age", "tags", "items", "meta", "id", "when", "dyn"]
        code, age, tags, items, meta, ident, when, dyn = fields
        assert (code.type_name, code.required, code.desc, code.min_length, code.max_length, code.docs) == (
            "string", True, "culture", 5, 5, True)
        assert (age.type_name, age.integer, age.min, age.max, age.default, age.has_default, age.nullable, age.docs) == (
            "number", True, 1, 2, 1, True, True, False)
        assert (tags.type_name, tags.sub_type, tags.allow, tags.allow_multiple, tags.deny, tags.match, tags.default,
                tags.has_default, tags.desc) == ("array", "string", ["a"], True, ["b"], "^x", None, True, "tag list")
        assert items.is_array_of_documents and items.type_name == "array"
        assert [(f.name, f.index) for f in items.item_fields] == [("name", True)]
        assert meta.free_form and meta.type_name == "object"
        assert ident.rules["indexOptions"] == {"w": 1} and ident.rules["unique"] is True
        assert (ident.unique, ident.index, ident.sparse, ident.index_options) == (True, True, True, {"w": 1})
        assert (ident.public_set, ident.public_get, ident.virtual) == (False, True, True)
        assert when.type_name == "date" and dyn.dynamic and dyn.type_name is None


class TestPerformanceContract:
    def test_validate_compiles_no_regex(self, monkeypatch):
        schema = compile_rules({"code": {"type": str, "match": "^[a-z]+$", "convert": "upper"},
                                "n": {"type": "Number", "allow": [1, 2]}})

        def forbidden(*args, **kwargs):
            raise AssertionError("regex compiled during validation")
        monkeypatch.setattr(re, "compile", forbidden)
        assert schema.validate({"code": "abc", "n": "2"}) == {"code": "ABC", "n": 2}


def test_header_preconditions_see_the_headers_flask_sees():
    """The header section is read from the WSGI environ: the same names (lower-case) and values as
    ``request.headers``, Content-Type and Content-Length included, a stray HTTP_CONTENT_TYPE left out."""
    from werkzeug.datastructures import EnvironHeaders
    from werkzeug.test import EnvironBuilder

    from core.validation.preconditions import header_values

    for options in ({"headers": {"key": "k", "culture.code": "de-DE", "X-Forwarded-For": "1.2.3.4"}},
                    {"method": "POST", "data": b"{}", "content_type": "application/json"}, {}):
        environ = EnvironBuilder(**options).get_environ()
        environ["HTTP_CONTENT_TYPE"] = "not a header a client can send"
        assert header_values(environ) == {k.lower(): v for k, v in EnvironHeaders(environ).items()}
    assert header_values(EnvironBuilder(headers={"culture.code": "de-DE"}).get_environ())["culture.code"] == "de-DE"
