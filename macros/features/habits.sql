{#-
    The hours (shop time) at which the morning, afternoon and evening dayparts start: the
    vars shop_morning_start_hour, shop_afternoon_start_hour and shop_evening_start_hour
    (6, 12, 18). Night runs from midnight to the morning's start, evening to midnight.
    Whole hours, 0 < morning < afternoon < evening < 24, else the build stops.
-#}
{% macro shop_daypart_start_hours() %}
    {%- set morning = shop_var_number('shop_morning_start_hour', 6, minimum=1, maximum=23, whole=true) -%}
    {%- set afternoon = shop_var_number('shop_afternoon_start_hour', 12, minimum=1, maximum=23, whole=true) -%}
    {%- set evening = shop_var_number('shop_evening_start_hour', 18, minimum=1, maximum=23, whole=true) -%}
    {%- if not (morning < afternoon < evening) -%}
        {{ exceptions.raise_compiler_error(
            "shopseg: vars shop_morning_start_hour (" ~ morning ~ "), shop_afternoon_start_hour ("
            ~ afternoon ~ ") and shop_evening_start_hour (" ~ evening ~ ") must increase") }}
    {%- endif -%}
    {{ return({'morning': morning, 'afternoon': afternoon, 'evening': evening}) }}
{% endmacro %}


{#-
    The ISO days of the week (1 = Monday ... 7 = Sunday) that are the weekend: the var
    shop_weekend_days ([6, 7], Saturday and Sunday), a list of distinct whole numbers 1-7.
-#}
{% macro shop_weekend_days() %}
    {%- set days = var('shop_weekend_days', [6, 7]) -%}
    {%- set days = [days] if days is number or days is string else days -%}
    {%- set checked = [] -%}
    {%- for day in (days or []) -%}
        {%- set text = day | string | trim -%}
        {%- if not modules.re.match('^[1-7]$', text) or text | int in checked -%}
            {{ exceptions.raise_compiler_error(
                "shopseg: var shop_weekend_days = " ~ days ~ " must list distinct ISO days of "
                ~ "the week, 1 (Monday) to 7 (Sunday)") }}
        {%- endif -%}
        {%- do checked.append(text | int) -%}
    {%- endfor -%}
    {%- if not checked -%}
        {{ exceptions.raise_compiler_error(
            "shopseg: var shop_weekend_days must name at least one day (1 = Monday ... 7 = Sunday)") }}
    {%- endif -%}
    {{ return(checked) }}
{% endmacro %}


{#-
    The device words (stg_shop__events.device, lower-cased) that count as mobile: the var
    shop_mobile_devices (mobile, phone, smartphone), as a list of SQL string literals;
    a word other than letters, digits, spaces and _ . + - stops the build.
-#}
{% macro shop_mobile_device_literals() %}
    {%- set words = var('shop_mobile_devices', ['mobile', 'phone', 'smartphone']) -%}
    {%- set words = [words] if words is string else words -%}
    {%- set literals = [] -%}
    {%- for word in (words or []) -%}
        {%- set text = word | string | trim | lower -%}
        {%- if not modules.re.match('^[a-z0-9][a-z0-9 _.+-]*$', text) -%}
            {{ exceptions.raise_compiler_error(
                "shopseg: var shop_mobile_devices: '" ~ word ~ "' is not a device word "
                ~ "(letters, digits, spaces and _ . + -)") }}
        {%- endif -%}
        {%- do literals.append("'" ~ text ~ "'") -%}
    {%- endfor -%}
    {%- if not literals -%}
        {{ exceptions.raise_compiler_error(
            "shopseg: var shop_mobile_devices must name at least one device word (e.g. mobile)") }}
    {%- endif -%}
    {{ return(literals) }}
{% endmacro %}
